"""Persistence: the event log (``log.py``), its projections and schema, and its stores.

``sqlite.py`` (the embedded default) and ``postgres.py`` keep the log and its
projections in a database through ``sql.py``; ``MemoryEventLog`` keeps it in
memory for runs without a store.
"""
