"""Order management: the pure core (state machine, client ids, validation) and, later, its service."""
