"""Account state: positions and balances (pure trackers) and, later, the private-stream service."""
