"""Researchers: the profile card, papers, collaborators and the co-author graph."""
