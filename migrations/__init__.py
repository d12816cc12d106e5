"""Alembic migrations for the BZPEER store (applied by `bzpeer db upgrade` and at start)."""
