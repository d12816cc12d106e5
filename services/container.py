"""The services the Slack surface and the CLI use, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from services.demo import DemoService
from services.importer import ImportService
from services.lookup import LookupService
from services.openalex import OpenAlexClient
from services.profiles import ProfileService


@dataclass(frozen=True)
class Services:
    engine: Engine
    profiles: ProfileService
    lookup: LookupService
    importer: ImportService
    demo: DemoService


def build_services(engine: Engine, openalex: OpenAlexClient) -> Services:
    """Wire every service onto one engine and one OpenAlex client."""
    profiles = ProfileService(engine)
    importer = ImportService(engine, openalex)
    return Services(
        engine=engine,
        profiles=profiles,
        lookup=LookupService(profiles, importer),
        importer=importer,
        demo=DemoService(engine),
    )
