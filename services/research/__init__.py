"""Researchers and what is known about them: finding them (names, identifiers), their profile,
trust, papers, the co-author graph, collaborators and the graph picture, and the demo store."""
