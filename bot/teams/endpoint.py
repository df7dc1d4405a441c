"""`POST /api/messages`: our own checks first, so bad input is a clear 4xx and never the SDK's 500."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from botbuilder.core import ActivityHandler
from msrest.serialization import Model

from bot.config import Settings
from bot.chat.conversation import StillAnswering
from bot.observability.logs import ACTIVITY_ID, request_context, request_id_from, safe_id
from bot.observability.metrics import Metrics, activity_type
from bot.teams.activities import MalformedActivity, activity_from_json, tenant_of
from bot.teams.adapter import HypercareAdapter
from bot.teams.auth import Unauthorized

log = logging.getLogger(__name__)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def read_activity_json(request: web.Request, max_bytes: int) -> dict[str, Any] | web.Response:
    """The request's activity as a dict, or the 4xx that explains what is wrong with it."""
    if request.content_length is not None and request.content_length > max_bytes:
        return _problem(413, f"body larger than {max_bytes} bytes")
    if request.content_type != "application/json":
        return _problem(415, "Content-Type must be application/json")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > max_bytes:
            return _problem(413, f"body larger than {max_bytes} bytes")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _problem(400, "body is not valid JSON")
    if not isinstance(payload, dict):
        return _problem(400, "body must be a JSON object (one activity)")
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        return _problem(400, "activity has no type")
    return payload


def _invoke_body(body: Any) -> Any:
    return body.serialize() if isinstance(body, Model) else body


class MessagesEndpoint:
    def __init__(
        self,
        *,
        settings: Settings,
        adapter: HypercareAdapter,
        bot: ActivityHandler,
        unavailable: Callable[[BaseException], bool] = lambda error: False,
        metrics: Metrics | None = None,
    ) -> None:
        """`unavailable`: whether an error means a dependency (the database) is down: answered 503, Teams tries again."""
        self._settings = settings
        self._adapter = adapter
        self._bot = bot
        self._unavailable = unavailable
        self._metrics = metrics or Metrics()

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one request under its request id (Teams' MS-CV header, or a new one), counted and timed."""
        with request_context(request_id_from(request.headers)):
            started = time.perf_counter()
            payload = await read_activity_json(request, self._settings.max_body_bytes)
            kind = "other" if isinstance(payload, web.Response) else activity_type(payload["type"])
            status = 500  # unless an answer comes back: an exception becomes aiohttp's 500
            try:
                response = payload if isinstance(payload, web.Response) else await self._answer(request, payload)
                status = response.status
                return response
            finally:
                seconds = time.perf_counter() - started
                self._metrics.request_answered(kind, status, seconds)
                log.debug("%s activity answered %s in %.1f ms", kind, status, seconds * 1000)

    async def _answer(self, request: web.Request, payload: dict[str, Any]) -> web.Response:
        try:
            activity = activity_from_json(payload)
        except MalformedActivity as error:
            return _problem(400, str(error))
        ACTIVITY_ID.set(safe_id(activity.id))
        try:
            await self._adapter.authenticate(activity, request.headers.get("Authorization"))
        except Unauthorized as error:
            log.info("refused an unauthenticated request: %s", error)
            return _problem(401, "unauthorized")
        if not self._settings.tenant_allowed(tenant_of(activity)):
            # Quietly accepted and ignored: a foreign tenant learns nothing, and Teams does not retry.
            log.warning("ignored an activity from tenant %r, which is not allowed", tenant_of(activity))
            return web.Response(status=202)
        try:
            invoke_response = await self._adapter.process(activity, self._bot.on_turn)
        except StillAnswering:
            # Teams re-sent it while we work on it: tried again later, it is a duplicate, or answered if we failed.
            log.info("activity %s is already being answered; asked to try again", activity.id)
            return _problem(503, "this activity is still being answered, try again")
        except Exception as error:
            if not self._unavailable(error):
                raise
            self._metrics.database_unavailable.inc()
            log.warning("cannot process activity %s now, the database is unavailable: %s", activity.id, type(error).__name__)
            return _problem(503, "temporarily unavailable, try again")
        if invoke_response is None:
            return web.Response(status=200)
        return web.json_response(_invoke_body(invoke_response.body), status=invoke_response.status)
