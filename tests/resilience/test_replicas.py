"""Scenario 4: two bot replicas (two `hypercare serve` processes) on one PostgreSQL database, both running the
scheduler every 0.2 s, while mentions and submits flow to both at once (a form asked of one replica is submitted
to the other).

Due work arrives in waves while both run, so both planners and both delivery passes compete for it: Sev1 issues
raised long ago in several war rooms (escalations and reminders due), the war rooms' stand-ups, and a group chat
where several issues and queued replies share one conversation. Every due message must reach the fake Bot
Connector exactly once (matched to its outbox row by conversation and card content), each issue planned once, and
every flow must end with exactly one stored issue.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.resilience.connector import RecordingConnector
from tests.resilience.processes import Bots
from tests.resilience.seeding import OVERDUE, Database, group_chat, match_deliveries, queue_replies, seed_overdue_sev1, utcnow
from tests.resilience.traffic import Client, summarise
from tests.support.databases import fresh_database

WAVES = 3


@pytest.mark.postgres
async def test_two_replicas_deliver_every_due_message_exactly_once_under_load(
    tmp_path: Path, connector: RecordingConnector, bots: Bots, figures: dict[str, Any]
) -> None:
    async with asyncio.timeout(240), fresh_database("postgresql", tmp_path) as url:
        database = Database(url)
        try:
            await _two_replicas(url, database, connector, bots, figures)
        finally:
            await bots.stop_all()
            await database.close()


async def _two_replicas(
    url: str, database: Database, connector: RecordingConnector, bots: Bots, figures: dict[str, Any]
) -> None:
    replicas = [bots(name, url, scheduler_interval=0.2) for name in ("replica-a", "replica-b")]
    starts = await asyncio.gather(*(replica.start() for replica in replicas))
    figures["start_s"] = [round(value, 2) for value in starts]
    seeded_issues: list[int] = []
    chat = group_chat(connector.url, "replicas")

    async with Client(connector, run=f"replicas-{os.getpid()}", form_timeout=10) as client:
        stop = asyncio.Event()
        load = asyncio.create_task(client.stream([replica.url for replica in replicas], stop, concurrency=6, cross_submit=True))
        for wave in range(WAVES):
            now = utcnow()
            seeded = await seed_overdue_sev1(database.uow, connector.url, prefix=f"rep{wave}", rooms=2, per_room=10, raised_at=now - OVERDUE)
            seeded_issues += seeded.issue_ids
            assert await database.make_standups_due(at=now - timedelta(minutes=1), team_ids=seeded.team_ids) == 2
            if wave == 1:
                # One conversation with a queue of its own: issues raised in a group chat, and replies waiting.
                in_chat = await seed_overdue_sev1(
                    database.uow, connector.url, prefix="repchat", rooms=1, per_room=6, raised_at=now - OVERDUE, conversation=chat
                )
                seeded_issues += in_chat.issue_ids
                await queue_replies(database.uow, chat, count=4, now=now, prefix="repchat")
                await database.set_up_window(chat.war_room_key, today=now)
                assert await database.make_standups_due(at=now - timedelta(minutes=1), keys=(chat.war_room_key,)) == 1
            await asyncio.sleep(2.0)
        await asyncio.sleep(2.0)
        stop.set()
        await load
        leftovers = [flow for flow in client.flows if flow.state == "no_form" and flow.mention_status == 200]
        for flow in leftovers:  # a form queued by a turn comes through the outbox
            if await client.find_form(flow, timeout=10):
                await client.submit(flow)

    began = time.monotonic()
    while (await database.outbox_counts())["pending"] and time.monotonic() - began < 30:
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)  # both replicas tick a few more times: nothing may be sent again
    rows = await database.outbox()
    check = match_deliveries(rows, connector)
    issues = await database.issues()
    keys_by_issue: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        parts = row.dedupe_key.split(":")
        if parts[0] == "escalation":
            keys_by_issue[int(parts[2])].append(row.dedupe_key)
        elif parts[0] == "reminder":
            keys_by_issue[int(parts[1])].append(row.dedupe_key)
    errors = {replica.name: replica.error_lines() for replica in replicas}
    figures.update(
        flows=len(client.flows),
        flow_states=dict(Counter(flow.state for flow in client.flows)),
        seeded_issues=len(seeded_issues),
        outbox_rows=len(rows),
        outbox_status=dict(Counter(row.status for row in rows)),
        outbox_kinds=dict(Counter(row.dedupe_key.split(":")[0] for row in rows)),
        delivered_more_than_once=len(check.duplicated),
        never_delivered=len(check.lost),
        requests=summarise(client.requests),
        requests_per_replica=dict(Counter(request.url for request in client.requests)),
        error_lines=sum(len(lines) for lines in errors.values()),
    )

    assert figures["outbox_status"] == {"sent": len(rows)}, f"not all sent: {[(r.dedupe_key, r.status, r.last_error) for r in rows if r.status != 'sent']}"
    assert check.lost == [], f"never delivered: {[row.dedupe_key for row in rows if row.id in check.lost]}"
    assert check.duplicated == {}, f"delivered more than once: {[(row.dedupe_key, check.duplicated[row.id]) for row in rows if row.id in check.duplicated]}"
    # Each issue planned once: one escalation each, and never two reminders of one kind.
    for issue_id in seeded_issues:
        keys = keys_by_issue[issue_id]
        assert keys.count(f"escalation:ack:{issue_id}") == 1, (issue_id, keys)
        kinds = Counter(key.rsplit(":", 1)[0] for key in keys if key.startswith("reminder:"))
        assert all(count == 1 for count in kinds.values()), (issue_id, keys)
    # A stand-up for each seeded war room (the flows' own war room may have one too, if its time came), one per room.
    standups = Counter(row.war_room_id for row in rows if row.dedupe_key.startswith("standup:"))
    assert len(standups) >= 2 * WAVES + 1 and set(standups.values()) == {1}, standups
    assert figures["outbox_kinds"].get("turn", 0) >= 4
    # In order in the shared conversation.
    in_chat = sorted((check.copies[row.id][0], row.id) for row in rows if row.conversation_id == chat.conversation_id)
    assert [row_id for _, row_id in in_chat] == sorted(row_id for _, row_id in in_chat), "the group chat's messages out of order"
    # Every flow raised exactly one issue, whichever replica took each step.
    stored = Counter(issue.source_form_id for issue in issues)
    assert [(flow.index, flow.state, flow.history) for flow in client.flows if flow.state != "done"] == []
    assert [flow.index for flow in client.flows if stored[flow.form_id] != 1] == []
    assert len(figures["requests_per_replica"]) == 2
    assert errors == {replica.name: [] for replica in replicas}, "ERROR or traceback lines in a replica's log"
