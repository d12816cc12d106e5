"""The composition root: settings → engine → OpenAlex client → services."""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from services.container import Services, build_services
from services.db import make_engine, upgrade
from services.openalex import OpenAlexClient


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    services: Services
    openalex: OpenAlexClient

    def close(self) -> None:
        """Release the OpenAlex connection pool and the database pool."""
        self.openalex.close()
        self.services.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    openalex: OpenAlexClient | None = None,
) -> Runtime:
    """Everything the processes need, migrated to the latest schema unless told otherwise."""
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    openalex = openalex or OpenAlexClient(settings.openalex_url, settings.openalex_api_key)
    return Runtime(settings=settings, services=build_services(engine, openalex), openalex=openalex)
