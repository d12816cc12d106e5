"""Slack on this machine: a stand-in for Slack's Web API (a real HTTP server on 127.0.0.1), the
one builder of signed requests as Slack sends them, and the shell that drives the app with both.

Used by `bzpeer shell` (and `bzpeer start` without credentials), the tests and the benchmarks.
"""
