"""Pre-trade risk: pure checks and the kill switch, and, later, the risk service."""
