"""Slack requests handled exactly once, both ways: deliveries from Slack seen once (dedupe) and
messages to Slack sent once even when Slack never answers (sending)."""
