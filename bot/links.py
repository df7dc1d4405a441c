"""Unguessable links to what the bot serves itself: a card's chart, and a war room's hand-over pack.

Teams does not reliably render data-URI images, and a ZIP cannot travel in a card, so cards point at the bot:

    GET /charts/{war room}/{chart}/{signature}.png             a card's chart (bot/domain/charts.py says how long)
    GET /handover/{war room}/{expiry}/{signature}.zip          the hand-over pack, for an hour

The signature is an HMAC-SHA256 (HYPERCARE_CHART_SECRET) of what the link names, the kind of link first, so a
chart's signature opens no pack and no other war room. Replicas sharing the secret accept each other's links,
and a restart keeps them valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

HANDOVER_LINK_LIFETIME = timedelta(hours=1)


class SignedLinks:
    def __init__(self, *, base_url: str, secret: bytes) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret = secret

    def _signature(self, kind: str, *parts: int) -> str:
        message = ":".join([kind, *map(str, parts)]).encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def _valid(self, signature: str, kind: str, *parts: int) -> bool:
        # As bytes: compare_digest refuses non-ASCII str, and a link is whatever the client sends.
        return hmac.compare_digest(signature.encode(), self._signature(kind, *parts).encode())

    def chart_url(self, war_room_id: int, chart_id: int) -> str:
        return f"{self._base_url}/charts/{war_room_id}/{chart_id}/{self._signature('chart', war_room_id, chart_id)}.png"

    def chart_signed(self, war_room_id: int, chart_id: int, signature: str) -> bool:
        return self._valid(signature, "chart", war_room_id, chart_id)

    def handover_url(self, war_room_id: int, *, now: datetime) -> str:
        expires = int((now + HANDOVER_LINK_LIFETIME).timestamp())
        return f"{self._base_url}/handover/{war_room_id}/{expires}/{self._signature('handover', war_room_id, expires)}.zip"

    def check_handover(self, war_room_id: int, expires: int, signature: str, *, now: datetime) -> str | None:
        """None when the link is good; otherwise why not ("expired" or "invalid")."""
        if not self._valid(signature, "handover", war_room_id, expires):
            return "invalid"
        if now.timestamp() > expires:
            return "expired"
        return None
