"""OpenAlex: the typed client and its records, writing works and authors into the store, importing
an author, and look-ups from Slack (with their per-member limit)."""
