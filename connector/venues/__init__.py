"""Venue drivers. Everything here but ``<venue>/session.py`` is sans-I/O."""
