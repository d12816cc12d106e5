"""Benchmarks: a synthetic-store generator and latency measurements (not part of the test run)."""
