"""The domain, one package per domain. None imports Slack, and imports between them point one way,
down this list (tests/test_layers.py keeps it so):

    store/           the store: engine.py (engines, sessions, migrations), sql.py (statement
                     helpers for both databases), models.py (every table), text.py, health.py
    slack_requests/  exactly once with Slack: dedupe.py (each delivery acted on once) and
                     sending.py (a post Slack never answered is looked up before a resend)
    workspaces/      who uses the bot: members.py, lifecycle.py (an uninstall parks, a reinstall
                     restores), privacy.py (forgetting a member)
    research/        researchers and what is known of them: identifiers, search, researchers
                     (names, topics), topic_queries (a topic's card), profiles (the card's reads
                     in card_queries), trust, paper_keys, papers, coauthor_graph,
                     collaborator_queries, collaborators, graph_picture, demo (with data/)
    openalex/        client.py and records.py, upserts.py and works.py (writing records into the
                     store), work_batches, importer, author_lookup and lookup_slots (from Slack),
                     topics (topic requests and parsing) and topic_lookup (TOPIC → a cached topic)
    digests/         schedule, follows, topic_follows (by member: a person or a channel) and
                     follow_views, refresh (new works found), queueing and ledger (a row's life),
                     compose, port, delivery (with workspace_gate: Slack's
                     waits per workspace) and unconfirmed; channels (channel feeds) and
                     mentions (claimed authors a channel post mentions)
    collaboration/   claims and invitations, each as *_types, *_queries, *_policy and *_service,
                     with invitation_views; ORCID sign-in for L3 (orcid_state, orcid_client,
                     orcid_service)

container.py builds every service on one engine and one OpenAlex client: what the Slack surface
and the CLI are handed by the composition root (bot/runtime.py).
"""
