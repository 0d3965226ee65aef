"""Order management: the pure core (state machine, client ids, validation), later its service."""
