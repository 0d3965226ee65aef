"""Persistence: the event log protocol (``log.py``) and, later, its SQLite/PostgreSQL stores."""
