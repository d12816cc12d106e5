"""Benchmarks, run by hand (`python -m benchmarks.NAME`), each printing a table: a synthetic-store
generator, latency and load measurements, and the fault and crash replays. They reuse the test
support (tests/*_support.py, tests/fake_openalex.py) and the local Slack (bot/local/); nothing in
tests/ imports them, so they are not part of the test run."""
