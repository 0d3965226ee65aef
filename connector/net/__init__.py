"""The network edge: websocket, REST, rate limits and clock sync, venue-agnostic."""
