"""The services the Slack surface and the CLI use, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine

from services.collaboration.claim_service import ClaimService
from services.collaboration.claim_types import ClaimNotifier
from services.collaboration.invitation_service import InvitationService
from services.collaboration.invitation_types import InvitationSender
from services.collaboration.orcid_service import OrcidService
from services.digests.channels import ChannelService
from services.digests.delivery import CLAIM_FLOOR, DigestService
from services.digests.demo_news import DemoNewsService
from services.digests.follows import FollowService
from services.digests.port import DigestSender
from services.digests.refresh import RefreshService
from services.digests.topic_follows import TopicFollowService
from services.openalex.author_lookup import LookupService
from services.openalex.client import OpenAlexClient
from services.openalex.importer import ImportService
from services.openalex.lookup_slots import LookupSlots
from services.openalex.topic_lookup import TopicService
from services.research.collaborators import CollaboratorService
from services.research.demo import DemoService
from services.research.expertise import ExpertiseService
from services.research.graph_picture import GraphPictureService
from services.research.papers import PaperService
from services.research.profiles import ProfileService
from services.slack_requests.dedupe import DedupeService
from services.workspaces.lifecycle import WorkspaceService
from services.workspaces.privacy import PrivacyService


@dataclass(frozen=True)
class Services:
    engine: Engine
    # What runs before an ack (dedupe, workspace events, authorization): bounded waits.
    ack_engine: Engine
    profiles: ProfileService
    lookup: LookupService
    lookup_slots: LookupSlots
    importer: ImportService
    demo: DemoService
    demo_news: DemoNewsService
    refresh: RefreshService
    digests: DigestService
    papers: PaperService
    expertise: ExpertiseService
    collaborators: CollaboratorService
    graph_pictures: GraphPictureService
    follows: FollowService
    topics: TopicService
    topic_follows: TopicFollowService
    channels: ChannelService
    workspaces: WorkspaceService
    dedupe: DedupeService
    claims: ClaimService
    invitations: InvitationService
    privacy: PrivacyService
    orcid: OrcidService

    def reading_on_ack_engine(self) -> Services:
        """The same services, with those that only read the store (cards, papers, collaborators,
        expertise) on the ack engine: a command answered inside its ack then waits on the store
        no longer than an ack may, and never behind listener work for a connection."""
        engine = self.ack_engine
        if engine is self.engine:
            return self
        return replace(
            self,
            profiles=ProfileService(engine),
            papers=PaperService(engine),
            collaborators=CollaboratorService(engine),
            expertise=ExpertiseService(engine),
        )


def build_services(
    engine: Engine,
    openalex: OpenAlexClient,
    *,
    digest_sender: DigestSender | None = None,
    digest_claim_floor: int = CLAIM_FLOOR,
    claim_notifier: ClaimNotifier | None = None,
    invitation_sender: InvitationSender | None = None,
    ack_engine: Engine | None = None,
    orcid: OrcidService | None = None,
) -> Services:
    """Wire every service onto one engine and one OpenAlex client (and the digest DM port);
    what runs before an ack (the dedupe check, workspace events) may have an engine of its own."""
    ack_engine = ack_engine or engine
    profiles = ProfileService(engine)
    importer = ImportService(engine, openalex)
    collaborators = CollaboratorService(engine)
    topics = TopicService(engine, openalex)
    return Services(
        engine=engine,
        ack_engine=ack_engine,
        profiles=profiles,
        lookup=LookupService(profiles, importer, openalex),
        # Taken before an ack, so on the ack engine with its bounded waits.
        lookup_slots=LookupSlots(ack_engine),
        importer=importer,
        demo=DemoService(engine),
        demo_news=DemoNewsService(engine),
        refresh=RefreshService(engine, openalex),
        digests=DigestService(engine, digest_sender, claim_floor=digest_claim_floor),
        papers=PaperService(engine),
        expertise=ExpertiseService(engine),
        collaborators=collaborators,
        graph_pictures=GraphPictureService(engine),
        follows=FollowService(engine),
        topics=topics,
        topic_follows=TopicFollowService(engine, topics),
        channels=ChannelService(engine, topics),
        workspaces=WorkspaceService(ack_engine),
        dedupe=DedupeService(ack_engine),
        claims=ClaimService(engine, claim_notifier),
        invitations=InvitationService(engine, invitation_sender),
        privacy=PrivacyService(engine),
        orcid=orcid or OrcidService(engine, None),
    )
