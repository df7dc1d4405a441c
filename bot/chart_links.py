"""Unguessable, expiring links to a war room's chart, served by the bot itself.

Teams does not reliably render data-URI images, so cards point at `GET /charts/{war room}/{expiry}/{signature}.png`.
The signature is an HMAC of the war room and the expiry; replicas sharing `HYPERCARE_CHART_SECRET` accept
each other's links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta


class ChartLinks:
    def __init__(self, *, base_url: str, secret: bytes, lifetime: timedelta = timedelta(hours=24)) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret = secret
        self._lifetime = lifetime

    def _signature(self, war_room_id: int, expires: int) -> str:
        digest = hmac.new(self._secret, f"{war_room_id}:{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def url(self, war_room_id: int, *, now: datetime) -> str:
        expires = int((now + self._lifetime).timestamp())
        return f"{self._base_url}/charts/{war_room_id}/{expires}/{self._signature(war_room_id, expires)}.png"

    def check(self, war_room_id: int, expires: int, signature: str, *, now: datetime) -> str | None:
        """None when the link is good; otherwise why not ("expired" or "invalid")."""
        # As bytes: compare_digest refuses non-ASCII str, and a link is whatever the client sends.
        if not hmac.compare_digest(signature.encode(), self._signature(war_room_id, expires).encode()):
            return "invalid"
        if now.timestamp() > expires:
            return "expired"
        return None
