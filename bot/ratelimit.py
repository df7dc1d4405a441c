"""Teams' send limits, kept per conversation and per tenant across everything one worker sends."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    count: int
    per: timedelta


# Documented Bot Framework limits for sends to one conversation, and for one app in one tenant.
CONVERSATION_LIMITS = (Limit(7, timedelta(seconds=1)), Limit(8, timedelta(seconds=2)), Limit(60, timedelta(seconds=30)))
TENANT_LIMITS = (Limit(50, timedelta(seconds=1)),)


class SlidingWindowLimiter:
    """Remembers recent sends per key; says how long to wait before the next one keeps every limit."""

    def __init__(self, limits: Sequence[Limit]) -> None:
        self._limits = tuple(limits)
        self._horizon = max(limit.per for limit in self._limits)
        self._sent: dict[str, deque[datetime]] = {}

    def wait(self, key: str, now: datetime) -> timedelta:
        sent = self._sent.get(key)
        if not sent:
            return timedelta()
        while sent and sent[0] <= now - self._horizon:
            sent.popleft()
        if not sent:
            del self._sent[key]  # forget quiet conversations, or the map grows with every one ever seen
            return timedelta()
        longest = timedelta()
        for limit in self._limits:
            recent = [moment for moment in sent if moment > now - limit.per]
            if len(recent) >= limit.count:
                # Wait until the oldest send that counts against this limit leaves its window.
                longest = max(longest, recent[-limit.count] + limit.per - now)
        return longest

    def record(self, key: str, now: datetime) -> None:
        self._sent.setdefault(key, deque()).append(now)


class SendLimiter:
    def __init__(
        self, conversation_limits: Sequence[Limit] = CONVERSATION_LIMITS, tenant_limits: Sequence[Limit] = TENANT_LIMITS
    ) -> None:
        self._conversations = SlidingWindowLimiter(conversation_limits)
        self._tenants = SlidingWindowLimiter(tenant_limits)

    def wait(self, conversation_id: str, tenant_id: str | None, now: datetime) -> timedelta:
        return max(self._conversations.wait(_channel(conversation_id), now), self._tenants.wait(tenant_id or "", now))

    def record(self, conversation_id: str, tenant_id: str | None, now: datetime) -> None:
        self._conversations.record(_channel(conversation_id), now)
        self._tenants.record(tenant_id or "", now)


def _channel(conversation_id: str) -> str:
    """Threads of one channel count against the channel's limit."""
    return conversation_id.split(";", 1)[0]
