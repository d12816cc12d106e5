"""Digests: follows and each member's schedule, the refresh job that finds new works, the ledger
that queues them, composing a digest and delivering it through the sending port."""
