"""People, looked up through the Bot Connector's conversation members."""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.model import Person
from bot.teams.connector import ConnectorClient, ConnectorError

log = logging.getLogger(__name__)


def _person(member: dict[str, Any]) -> Person | None:
    aad = member.get("aadObjectId")
    name = member.get("name") or member.get("givenName")
    if not isinstance(aad, str) or not isinstance(name, str):
        return None
    return Person(aad_object_id=aad, name=name)


async def roster(connector: ConnectorClient, *, service_url: str, conversation_id: str) -> list[Person]:
    """Everyone in a team (by its id) or a chat, page by page; empty when Teams will not say (the war room then
    learns its people as they act, and from member events)."""
    try:
        members = await connector.members(service_url, conversation_id.split(";", 1)[0])
    except ConnectorError as error:
        log.warning("could not read the members of %s: %s", conversation_id, error)
        return []
    return [person for person in map(_person, members) if person is not None]


class ConnectorDirectory:
    def __init__(self, connector: ConnectorClient, *, service_url: str, conversation_id: str) -> None:
        self._connector = connector
        self._service_url = service_url
        # Members belong to the channel or chat, not to one thread of it.
        self._conversation_id = conversation_id.split(";", 1)[0]

    async def person(self, user_id: str) -> Person | None:
        try:
            member = await self._connector.member(self._service_url, self._conversation_id, user_id)
        except ConnectorError as error:
            log.warning("could not look up member %s: %s", user_id, error)
            return None
        return _person(member) if member else None

    async def search(self, text: str) -> Person | None:
        wanted = text.strip().casefold()
        if not wanted:
            return None
        try:
            members = await self._connector.members(self._service_url, self._conversation_id)
        except ConnectorError as error:
            log.warning("could not list members: %s", error)
            return None
        exact = [m for m in members if wanted in {str(m.get(key, "")).casefold() for key in ("name", "email", "userPrincipalName")}]
        partial = [m for m in members if wanted in str(m.get("name", "")).casefold()]
        matches = exact or partial
        return _person(matches[0]) if len(matches) == 1 else None
