"""Due work put into a bot's database through the product's own services (Sev1 issues raised in the past,
stand-ups whose time has come, replies queued for later), and what the database says afterwards."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bot.domain.model import IssueDraft, Person, Severity
from bot.domain.war_room import WarRoomSettings
from bot.domain.messages import ConversationRef
from bot.services.intake import ACTIVITY_LEASE, report_issue
from bot.services.outbox import enqueue_message
from cards.notice import render_notice_card
from storage.db import create_engine, create_session_factory
from storage.models import IssueEventRow, IssueRow, OutboxRow, ProcessedActivityRow, WarRoomRow
from storage.uow import UnitOfWorkFactory
from tests.resilience.connector import RecordingConnector, card_key
from tests.support.activities import BOT_ID, TENANT

REPORTER = Person(aad_object_id="aad-priya", name="Priya Shah")
_serial = itertools.count(1)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Raised this long ago, a Sev1 is past its acknowledgement target and its reminders are due, and the next
# 15-minute reminder interval begins only 5 minutes from now (minus the seconds between seeded issues).
OVERDUE = timedelta(hours=2, minutes=55)


def seed_thread(service_url: str, prefix: str, room: int, thread: int) -> ConversationRef:
    """A thread in its own channel of team `room` (its own channel, so Teams' per-channel limits do not queue it)."""
    channel = f"19:{prefix}-room{room}-channel{thread}@thread.tacv2"
    return ConversationRef(
        conversation_id=f"{channel};messageid=root-{thread}",
        conversation_type="channel",
        service_url=service_url,
        channel="msteams",
        bot_id=BOT_ID,
        tenant_id=TENANT,
        team_id=f"19:{prefix}-team{room}@thread.tacv2",
        channel_id=channel,
    )


def group_chat(service_url: str, prefix: str) -> ConversationRef:
    """A group chat outside a team: every issue raised in it lives in the one conversation."""
    return ConversationRef(
        conversation_id=f"19:{prefix}-group-chat@thread.v2",
        conversation_type="groupChat",
        service_url=service_url,
        channel="msteams",
        bot_id=BOT_ID,
        tenant_id=TENANT,
    )


@dataclass(frozen=True)
class Seeded:
    issue_ids: tuple[int, ...]
    team_ids: tuple[str, ...]


async def seed_overdue_sev1(
    uow: UnitOfWorkFactory,
    service_url: str,
    *,
    prefix: str,
    rooms: int,
    per_room: int,
    raised_at: datetime,
    conversation: ConversationRef | None = None,
) -> Seeded:
    """Sev1 issues raised from `raised_at` on (a second apart) and never acknowledged: their escalations and reminders
    are due. Reminders come every 15 minutes: pick `raised_at` so that no new one falls due while the test runs."""
    issue_ids = []
    for room in range(rooms):
        for thread in range(per_room):
            n = next(_serial)
            ref = conversation or seed_thread(service_url, prefix, room, thread)
            issue = await report_issue(
                uow=uow(),
                now=raised_at + timedelta(seconds=len(issue_ids)),
                draft=IssueDraft(title=f"{prefix} seeded sev1 {n}", description=f"{prefix} seeded sev1 {n}", severity=Severity.SEV1),
                reporter=REPORTER,
                conversation=ref,
                form_id=f"seed-{prefix}-{n}",
                card_activity_id=f"seed-card-{n}",
            )
            issue_ids.append(issue.id)
    teams = tuple(f"19:{prefix}-team{room}@thread.tacv2" for room in range(rooms))
    return Seeded(tuple(issue_ids), teams if conversation is None else ())


async def queue_replies(uow: UnitOfWorkFactory, conversation: ConversationRef, *, count: int, now: datetime, prefix: str) -> None:
    """Replies a turn could not deliver, waiting in the outbox (as `Conversation.deliver_later` queues them)."""
    for n in range(count):
        await enqueue_message(
            uow=uow(), now=now, conversation=conversation, card=render_notice_card(f"{prefix} queued reply {n}"),
            dedupe_key=f"turn:{conversation.conversation_id}:{prefix}-{n}:0",
        )


class Database:
    """The test's own connection to the bot's database, to seed it and to look at it afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=2)
        self.uow = UnitOfWorkFactory(create_session_factory(self.engine))

    async def close(self) -> None:
        await self.engine.dispose()

    async def make_standups_due(self, *, at: datetime, team_ids: tuple[str, ...] = (), keys: tuple[str, ...] = ()) -> int:
        """Bring the stand-up time of these war rooms (by team id, or by key) to `at`."""
        condition = WarRoomRow.team_id.in_(team_ids) if team_ids else WarRoomRow.key.in_(keys)
        async with self.engine.begin() as connection:
            result = await connection.execute(update(WarRoomRow).where(condition).values(next_standup_at=at))
        return int(result.rowcount)

    async def set_up_window(self, key: str, *, today: datetime) -> None:
        """Give a war room an agreed window around `today` (a group chat holds stand-ups only once it has one)."""
        day = today.date()
        settings = WarRoomSettings(starts_on=day - timedelta(days=7), ends_on=day + timedelta(days=30))
        async with self.engine.begin() as connection:
            await connection.execute(update(WarRoomRow).where(WarRoomRow.key == key).values(settings=settings.model_dump(mode="json")))

    async def outbox(self) -> list[OutboxRow]:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(select(OutboxRow).order_by(OutboxRow.id))).all()
        return list(rows)  # type: ignore[arg-type]

    async def outbox_counts(self) -> Counter[str]:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))).all()
        return Counter({status: count for status, count in rows})

    async def expire_leases(self, *, claimed_until_at_most: datetime, now: datetime) -> int:
        """End the leases a dead process held (those ending by `claimed_until_at_most`), as the clock would after 60 s."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(OutboxRow)
                .where(OutboxRow.status == "pending", OutboxRow.claimed_until.is_not(None), OutboxRow.claimed_until <= claimed_until_at_most)
                .values(claimed_until=now)
            )
        return int(result.rowcount)

    async def expire_activity_claims(self, *, taken_at_most: datetime) -> int:
        """End the claims on activities a dead process left unfinished (taken by `taken_at_most`), as the clock would
        a lease later (their claim time goes back to a lease before `taken_at_most`)."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(ProcessedActivityRow)
                .where(ProcessedActivityRow.done_at.is_(None), ProcessedActivityRow.received_at <= taken_at_most)
                .values(received_at=taken_at_most - ACTIVITY_LEASE)
            )
        return int(result.rowcount)

    async def activity_claim(self, conversation_id: str, activity_id: str) -> str:
        """"none", "unfinished" (the bot is answering it, or died doing so) or "done" (a re-delivery is a duplicate)."""
        async with self.engine.connect() as connection:
            found = await connection.execute(
                select(ProcessedActivityRow.done_at).where(
                    ProcessedActivityRow.conversation_id == conversation_id, ProcessedActivityRow.activity_id == activity_id
                )
            )
            row = found.first()
        return "none" if row is None else "unfinished" if row.done_at is None else "done"

    async def issues(self) -> list[Any]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(select(IssueRow).order_by(IssueRow.id))).all())

    async def created_events(self) -> Counter[int]:
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(IssueEventRow.issue_id, func.count()).where(IssueEventRow.verb == "created").group_by(IssueEventRow.issue_id)
                )
            ).all()
        return Counter({issue_id: count for issue_id, count in rows})


@dataclass
class DeliveryCheck:
    """Outbox rows against what the fake connector received."""

    rows: int
    copies: dict[int, list[float]]  # outbox id -> arrival times (monotonic) of its deliveries
    unmatched_posts: int  # posts that belong to no outbox row (replies during turns)

    @property
    def lost(self) -> list[int]:
        return [row_id for row_id, times in self.copies.items() if not times]

    @property
    def duplicated(self) -> dict[int, int]:
        return {row_id: len(times) for row_id, times in self.copies.items() if len(times) > 1}


def match_deliveries(rows: list[Any], connector: RecordingConnector) -> DeliveryCheck:
    """Each outbox row's deliveries, matched by conversation and exact card content."""
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in rows:
        by_key[(row.conversation_id, card_key(row.payload["card"]))].append(row.id)
    arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)
    unmatched = 0
    for call, at in connector.posts():
        key = (call.conversation_id or "", card_key(call.card))
        if key in by_key:
            arrivals[key].append(at)
        else:
            unmatched += 1
    copies: dict[int, list[float]] = {}
    for key, ids in by_key.items():
        times = sorted(arrivals.get(key, []))
        if len(ids) == 1:
            copies[ids[0]] = times
        else:
            # Identical cards in one conversation: spread the copies over the rows in order, the surplus on the last.
            for position, row_id in enumerate(ids):
                copies[row_id] = times[position : position + 1] if position < len(ids) - 1 else times[position:]
    return DeliveryCheck(rows=len(rows), copies=copies, unmatched_posts=unmatched)
