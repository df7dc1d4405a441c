"""The shared FakeConnector with what resilience tests need on top: arrival times, a per-conversation index,
slow answers for chosen conversations, and outages decided by a rule (a clock, a set of conversations)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.support.connector import FakeConnector, RecordedCall


# When the request being handled reached the fake (set per request task, read when the call is recorded).
_arrived: contextvars.ContextVar[float] = contextvars.ContextVar("arrived")


class _TimedCalls(list[RecordedCall]):
    """`FakeConnector.calls`, remembering when (monotonic) each recorded call's request arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, call: RecordedCall) -> None:  # type: ignore[override]
        self.times.append(_arrived.get(time.monotonic()))
        super().append(call)


def card_key(card: dict[str, Any] | None) -> str:
    """A card's identity for matching deliveries with outbox rows."""
    return json.dumps(card, sort_keys=True, ensure_ascii=False)


class RecordingConnector(FakeConnector):
    def __init__(self) -> None:
        super().__init__()
        self.calls = _TimedCalls()
        # (call) -> seconds to wait before answering (the call is recorded as accepted either way).
        self.delay_for: Callable[[RecordedCall], float] = lambda call: 0.0
        # (call) -> an HTTP status to answer instead of accepting it, or None.
        self.failure_for: Callable[[RecordedCall], int | None] = lambda call: None
        # (call) -> True: no answer until `unhang` is set (or the fake stops), then 503: a send the bot waits on.
        self.hang_for: Callable[[RecordedCall], bool] = lambda call: False
        self.unhang = asyncio.Event()
        self.hanging = 0
        self._by_conversation: dict[str | None, list[RecordedCall]] = defaultdict(list)
        self._indexed = 0
        self.refused = 0
        self.delaying = 0  # requests being answered slowly right now (`delay_for`)

    async def _scripted(self, call: RecordedCall) -> web.Response | None:
        _arrived.set(time.monotonic())
        delay = self.delay_for(call)
        if delay:
            self.delaying += 1
            try:
                await asyncio.sleep(delay)
            finally:
                self.delaying -= 1
        if self.hang_for(call):
            self.hanging += 1
            released = asyncio.ensure_future(self._released.wait())
            unhung = asyncio.ensure_future(self.unhang.wait())
            await asyncio.wait([released, unhung], return_when=asyncio.FIRST_COMPLETED)
            released.cancel()
            unhung.cancel()
            self.failed_attempts.append(call)
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=503)
        status = self.failure_for(call)
        if status is not None:
            self.refused += 1
            self.failed_attempts.append(call)
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=status)
        return await super()._scripted(call)

    def in_conversation(self, conversation_id: str) -> list[RecordedCall]:
        for call in self.calls[self._indexed :]:
            self._by_conversation[call.conversation_id].append(call)
        self._indexed = len(self.calls)
        return self._by_conversation.get(conversation_id, [])

    def posts(self) -> list[tuple[RecordedCall, float]]:
        """Every message the bot posted (new messages and channel posts, not updates), with its arrival time."""
        return [(call, at) for call, at in zip(self.calls, self.calls.times) if call.method == "POST"]
