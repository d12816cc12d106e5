"""The store itself: engines, sessions and migrations, every table, text as the store keeps it,
and the health probe."""
