"""The Slack surface: listeners, parsing and Block Kit renderers. Never touches SQL or httpx.

One package per domain, as in services/: each holds its listeners (`claims.py`) beside their
renderers (`claim_blocks.py`). What every listener shares sits at this level: the slash router
(commands) and the DM that works like it (direct_messages), the request context (context), ids,
button values, block helpers and replies."""
