"""Block Kit renderers: pure functions from domain objects to (text, blocks)."""
