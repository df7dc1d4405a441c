"""Bot Connector REST calls over one shared aiohttp session, with the retries botbuilder never makes.

botbuilder 4.17.1 sends through msrest and `requests` in threads, opens a connection per reply and
never retries, not even on 429 (docs/teams-platform.md). Everything the bot sends goes through here, and nothing
leaves too large for Teams to take (`serialised_within_size_limit`: each body serialised once).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
from yarl import URL

from bot.config import is_loopback
from bot.observability.logs import REQUEST_ID
from bot.observability.metrics import Metrics
from bot.teams.activities import compact_json, serialised_within_size_limit, within_size_limit

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({412, 429, 502, 503, 504})


class TokenProvider(Protocol):
    """The bearer token for outbound calls; None in local mode (Emulator, Agents Playground)."""

    async def token(self) -> str | None: ...


class NoToken:
    async def token(self) -> str | None:
        return None


class ConnectorError(Exception):
    def __init__(self, status: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"Bot Connector call failed ({status}): {message}")
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Worth trying again later: throttled, a transient server error, or no answer at all."""
        return self.status is None or self.status in RETRYABLE_STATUS


class UntrustedServiceUrl(ConnectorError):
    """The bot's token would go to a host that is not a Bot Connector: refused before any request is made."""

    def __init__(self, service_url: str) -> None:
        super().__init__(None, f"untrusted service URL {_host(service_url)!r}: not https on HYPERCARE_TRUSTED_SERVICE_HOSTS")

    @property
    def retryable(self) -> bool:
        return False  # waiting does not change the address


def _host(url: str) -> str | None:
    try:
        return URL(url).raw_host
    except ValueError:
        return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def trusted_service_url(url: str, hosts: frozenset[str]) -> bool:
    """Whether the bot's token may go to `url`: https to a listed host or a true subdomain of one, or plain http to a
    listed loopback host. Parsed by yarl, as aiohttp parses it to connect, so both see the same host."""
    try:
        parsed = URL(url)
    except ValueError:
        return False
    host = (parsed.raw_host or "").rstrip(".")
    if not parsed.is_absolute() or not host or parsed.user is not None or parsed.password is not None:
        return False
    if parsed.scheme == "http":
        return host in hosts and is_loopback(host)
    if parsed.scheme != "https":
        return False
    return host in hosts or any(host.endswith("." + entry) for entry in hosts if not _is_ip(entry))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when the server says it, else exponential backoff with full jitter."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _path(conversation_id: str, activity_id: str | None = None) -> str:
    path = f"v3/conversations/{quote(conversation_id, safe='')}/activities"
    if activity_id:
        path += f"/{quote(activity_id, safe='')}"
    return path


class ConnectorClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        tokens: TokenProvider,
        retry: RetryPolicy,
        trusted_hosts: frozenset[str] = frozenset(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        """`trusted_hosts`: where the token may go (`trusted_service_url`); by default nowhere."""
        self._session = session
        self._tokens = tokens
        self._trusted_hosts = trusted_hosts
        self._retry = retry
        self._sleep = sleep
        self._metrics = metrics or Metrics()

    async def send(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str | None:
        """A new message in the conversation (in a channel thread when the id names one)."""
        reply_to = activity.get("replyToId")
        text = serialised_within_size_limit(activity, conversation_id=conversation_id)
        body = await self._call("POST", service_url, _path(conversation_id, reply_to), text)
        return body.get("id") if isinstance(body, dict) else None

    async def create_channel_post(
        self, service_url: str, *, channel_id: str, tenant_id: str | None, bot_id: str | None, activity: dict[str, Any]
    ) -> str | None:
        """A new thread in a Teams channel (not a reply in an existing one); the new message's id."""
        activity = within_size_limit(activity, conversation_id=channel_id)
        body: dict[str, Any] = {"isGroup": True, "channelData": {"channel": {"id": channel_id}}, "activity": activity}
        if tenant_id:
            body["tenantId"] = tenant_id
            body["channelData"]["tenant"] = {"id": tenant_id}
        if bot_id:
            body["bot"] = {"id": bot_id}
        answer = await self._call("POST", service_url, "v3/conversations", compact_json(body))
        if not isinstance(answer, dict):
            return None
        return answer.get("activityId") or answer.get("id")

    async def update(self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]) -> None:
        await self.update_serialised(
            service_url, conversation_id, activity_id, serialised_within_size_limit(activity, conversation_id=conversation_id)
        )

    async def update_serialised(self, service_url: str, conversation_id: str, activity_id: str, text: str) -> None:
        """`update` with the activity serialised and within Teams' size limit already (`SerialisedCard.update_body`)."""
        await self._call("PUT", service_url, _path(conversation_id, activity_id), text)

    async def delete(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        await self._call("DELETE", service_url, _path(conversation_id, activity_id), None)

    async def member(self, service_url: str, conversation_id: str, user_id: str) -> dict[str, Any] | None:
        """A conversation member by channel user id or AAD object id; None when Teams does not know them."""
        path = f"v3/conversations/{quote(conversation_id, safe='')}/members/{quote(user_id, safe='')}"
        try:
            body = await self._call("GET", service_url, path, None)
        except ConnectorError as error:
            if error.status in (400, 403, 404):
                return None
            raise
        return body if isinstance(body, dict) else None

    async def members(self, service_url: str, conversation_id: str) -> list[dict[str, Any]]:
        """Every member of a conversation (a team's channel: the whole team), following continuation tokens."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            path = f"v3/conversations/{quote(conversation_id, safe='')}/pagedmembers?pageSize=500"
            if token:
                path += f"&continuationToken={quote(token, safe='')}"
            body = await self._call("GET", service_url, path, None)
            if not isinstance(body, dict):
                return found
            found += [member for member in body.get("members") or [] if isinstance(member, dict)]
            token = body.get("continuationToken")
            if not token:
                return found

    async def _call(self, method: str, service_url: str, path: str, payload: str | None) -> Any:
        """`payload`: the body, JSON already serialised (the size check serialised it; once is enough)."""
        url = service_url.rstrip("/") + "/" + path
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        data = payload.encode() if payload is not None else None
        request_id = REQUEST_ID.get()
        if request_id:
            # Teams' correlation vector: the request that caused this call, to find it again in both sides' logs.
            headers["MS-CV"] = request_id
        try:
            token = await self._tokens.token()
        except Exception as error:  # MSAL raises what it meets (PermissionError, requests' errors, ValueError)
            self._metrics.connector_token_failures.inc()
            raise ConnectorError(None, f"no token for the Bot Connector: {type(error).__name__}: {error}") from error
        if token:
            # A serviceUrl comes from an activity or a stored row, possibly one stored in local mode: the token goes
            # only to a Bot Connector host, and no request at all goes anywhere else.
            if not trusted_service_url(url, self._trusted_hosts):
                raise UntrustedServiceUrl(url)
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(1, self._retry.max_attempts + 1):
            retry_after: float | None = None
            started, answered = time.perf_counter(), False
            try:
                async with self._session.request(method, url, data=data, headers=headers) as response:
                    answered = True
                    self._metrics.connector_answered(
                        method, response.status, time.perf_counter() - started, _retry_after(response.headers)
                    )
                    if response.status < 300:
                        if response.content_type == "application/json":
                            return await response.json()
                        await response.read()
                        return None
                    detail = (await response.text())[:300]
                    retry_after = _retry_after(response.headers)
                    failure = ConnectorError(response.status, detail, retry_after)
                    if not failure.retryable:
                        raise failure
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                # No answer, a cut or garbled one, or a service URL that is no URL: a failed send, never a crash.
                failure = ConnectorError(None, repr(error))
                if not answered:
                    self._metrics.connector_answered(method, None, time.perf_counter() - started, None)
            if attempt == self._retry.max_attempts:
                raise failure
            delay = self._retry.delay(attempt, retry_after)
            self._metrics.connector_retries.labels(method).inc()
            log.warning("%s %s failed (%s); retry %d in %.2fs", method, path, failure, attempt, delay)
            await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")
