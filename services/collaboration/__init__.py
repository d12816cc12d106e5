"""Collaboration: claiming a profile (and its review by workspace admins) and invitations to
collaborate, each as types, policy, queries and the service."""
