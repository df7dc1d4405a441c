"""Scenario 1: kill -9 of the bot under load, then a restart on the same database (SQLite and PostgreSQL).

A client keeps mention -> form -> Action.Execute submit flows going (real HTTP, every flow its own thread, form
and title; every fifth flow's form reply is refused by the connector so the turn queues it in the outbox), while
the scheduler delivers reminders and escalations of Sev1 issues seeded three hours in the past and the stand-ups
of their war rooms (the connector answers those slowly, so a send is in flight when the process dies). The
process is killed with SIGKILL mid-stream and restarted on the same port and database, and the client goes on.
Then, as Teams would, the client re-delivers every activity that got no HTTP answer, or a 503 (a mention the dead
process had claimed is held by its claim until the claim's lease runs out).

Checked: every issue whose card reached the client exists exactly once (form id, title, issue id); every issue
is whole (its `created` event, a unique number); every flow ends with exactly one issue; every outbox row is
delivered, and a row is delivered twice only inside the documented window (its first copy reached the connector
before the kill, the second came after the restart). The number of such duplicates is reported.

The dead process's leases (60 s: its outbox sends, its claims on activities) are ended by moving their times, which is
what the clock does a minute later, so the test does not sit out the minute; set HYPERCARE_RESILIENCE_REAL_LEASE=1 to
wait for it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.scheduler import SchedulerConfig
from bot.services.intake import ACTIVITY_LEASE
from tests.resilience.connector import RecordingConnector
from tests.resilience.processes import Bots
from tests.resilience.seeding import OVERDUE, Database, match_deliveries, seed_overdue_sev1, utcnow
from tests.resilience.traffic import Client, Flow, summarise
from tests.support.databases import fresh_database

REAL_LEASE = os.environ.get("HYPERCARE_RESILIENCE_REAL_LEASE", "") not in {"", "0"}
LEASE = max(SchedulerConfig().lease, ACTIVITY_LEASE)  # the dead process's outbox sends and claims on activities
SEEDED_SEND_DELAY = 0.1  # the connector's answer time for seeded conversations: a send is in flight at the kill
TURN_ATTEMPTS = 2  # HYPERCARE_CONNECTOR_MAX_ATTEMPTS for the turn: a refused form reply is queued after 2 tries
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_kill_9_under_load_then_restart_loses_nothing(
    backend: str, tmp_path: Path, connector: RecordingConnector, bots: Bots, figures: dict[str, Any]
) -> None:
    async with asyncio.timeout(240), fresh_database(backend, tmp_path) as url:
        database = Database(url)
        try:
            await _kill_under_load(url, database, connector, bots, figures)
        finally:
            await bots.stop_all()
            await database.close()


async def _kill_under_load(
    url: str, database: Database, connector: RecordingConnector, bots: Bots, figures: dict[str, Any]
) -> None:
    now = utcnow()
    seeded = await seed_overdue_sev1(database.uow, connector.url, prefix="k9", rooms=4, per_room=20, raised_at=now - OVERDUE)
    assert await database.make_standups_due(at=now - timedelta(minutes=1), team_ids=seeded.team_ids) == 4

    connector.delay_for = lambda call: SEEDED_SEND_DELAY if (call.conversation_id or "").startswith("19:k9-") else 0.0
    flaky: set[str] = set()
    refusals: Counter[str] = Counter()

    def refuse_first_replies(call: Any) -> int | None:
        # A flaky thread refuses the turn's attempts at the form reply; the outbox's later attempt goes through.
        if call.method == "POST" and call.conversation_id in flaky and refusals[call.conversation_id] < TURN_ATTEMPTS:
            refusals[call.conversation_id] += 1
            return 503
        return None

    connector.failure_for = refuse_first_replies
    bot = bots("k9", url, scheduler_interval=0.2, HYPERCARE_CONNECTOR_MAX_ATTEMPTS=str(TURN_ATTEMPTS))
    figures["first_start_s"] = round(await bot.start(), 2)

    # A queued form comes later through the outbox: the client parks that flow (no_form) rather than wait, and
    # finishes it at the end, so the stream keeps going through the kill.
    async with Client(connector, run=f"k9-{os.getpid()}", form_timeout=1.0) as client:
        original_new_flow = client.new_flow

        def new_flow(*args: Any, **kwargs: Any) -> Flow:
            flow = original_new_flow(*args, **kwargs)
            if flow.index % 5 == 0:
                flaky.add(flow.conversation_id)
            return flow

        client.new_flow = new_flow  # type: ignore[method-assign]
        stop = asyncio.Event()
        load = asyncio.create_task(client.stream([bot.url], stop, concurrency=6))
        # Kill in the middle of the seeded backlog, with a reminder and a client request on the wire (if that
        # moment comes within 10 s; else kill anyway, and the figures say what was in flight).
        await asyncio.sleep(1.0)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and not (
            len(_seeded_posts(connector)) >= 8 and connector.delaying > 0 and client.in_flight > 0
        ):
            await asyncio.sleep(0.002)

        posts_before_kill = len(_seeded_posts(connector))
        killed_at_wall, killed_at = utcnow(), time.monotonic()
        bot.kill()
        done_before_kill = sum(1 for flow in client.flows if flow.state == "done")
        await asyncio.sleep(1.0)  # the client meets a dead port for a while
        restarted_at = time.monotonic()
        figures["restart_s"] = round(await bot.start(), 2)
        await asyncio.sleep(3.0)
        stop.set()
        await load

        # The dead process's leases: wait them out, or end them as the clock would.
        if REAL_LEASE:
            await _sit_out_the_lease(killed_at_wall)
            expired = claims_ended = 0
        else:
            expired = await database.expire_leases(claimed_until_at_most=killed_at_wall + LEASE, now=utcnow())
            claims_ended = await database.expire_activity_claims(taken_at_most=killed_at_wall)

        # Teams re-delivers what got no answer, or a 503: the same activities, same ids.
        client.form_timeout = 4
        redelivered = await _redeliver(client, bot.url)
        drained = await _wait_until_drained(database, timeout=60)

        # Forms that were queued (refused replies) come through the outbox now: raise those issues too.
        late = [flow for flow in client.flows if flow.state == "no_form" and flow.mention_status == 200 and flow.conversation_id in flaky]
        await asyncio.gather(*(_finish(client, flow) for flow in late))

    rows = await database.outbox()
    check = match_deliveries(rows, connector)
    issues = await database.issues()
    created = await database.created_events()
    flows = client.flows
    done = [flow for flow in flows if flow.state == "done"]
    duplicates = check.duplicated
    figures.update(
        backend=url.split(":", 1)[0],
        flows=len(flows),
        flows_done_before_kill=done_before_kill,
        flows_done=len(done),
        flow_states=dict(Counter(flow.state for flow in flows)),
        redelivered=redelivered,
        mentions_held_by_a_dead_claim=sum(1 for flow in flows if "mention:503" in flow.history),
        activity_claims_ended_by_test=claims_ended,
        queued_form_replies=len(flaky),
        outbox_rows=len(rows),
        outbox_status=dict(Counter(row.status for row in rows)),
        seeded_posts_before_kill=posts_before_kill,
        leases_ended_by_test=expired,
        drain_s=drained,
        seeded_sends_unanswered_at_kill=sum(
            1 for call, at in connector.posts()
            if (call.conversation_id or "").startswith("19:k9-") and killed_at - SEEDED_SEND_DELAY < at < restarted_at
        ),
        requests_cut_by_kill=sum(1 for r in client.requests if r.started < killed_at < r.started + r.latency),
        duplicates_in_window=sum(count - 1 for count in duplicates.values()),
        duplicated_rows=[row.dedupe_key for row in rows if row.id in duplicates],
        # How long before the kill the first copies reached the connector (which answered after SEEDED_SEND_DELAY;
        # negative: written by the process just before it died, read by the connector just after).
        duplicate_first_copy_ms_before_kill=sorted(round(1000 * (killed_at - check.copies[row_id][0])) for row_id in duplicates),
        requests=summarise(client.requests),
    )

    # Nothing lost from the outbox, and duplicates only in the documented window.
    assert drained is not None, f"outbox not drained after the restart: {figures['outbox_status']}"
    assert check.lost == [], f"never delivered: {[row.dedupe_key for row in rows if row.id in check.lost]}"
    for row_id, count in duplicates.items():
        first, *again = check.copies[row_id]
        # Sent by the dead process (bytes it wrote may reach the connector just after SIGKILL, but before the restart),
        # then again by the restarted one.
        assert count == 2 and first < restarted_at and all(at > restarted_at for at in again), (
            f"outbox row {row_id} delivered {count} times outside the at-least-once window "
            f"(kill at {killed_at:.3f}, restart at {restarted_at:.3f}, copies at {check.copies[row_id]})"
        )
    # The window holds what one process had on the wire (or sent but not yet recorded): at most its concurrent sends.
    assert len(duplicates) <= getattr(SchedulerConfig(), "concurrency", 1), f"{len(duplicates)} messages sent twice"
    assert figures["outbox_status"] == {"sent": len(rows)}

    # Every issue whose card reached the client exists once, whole; every flow ended with exactly one issue.
    by_form = defaultdict(list)
    for issue in issues:
        by_form[issue.source_form_id].append(issue)
    for flow in done:
        [issue] = by_form[flow.form_id]
        assert (issue.id, issue.title) == (flow.issue_id, flow.title), f"flow {flow.index}: the card and the database disagree"
    titles = Counter(issue.title for issue in issues)
    assert [title for title, count in titles.items() if count > 1] == [], "an issue stored twice"
    assert all(created[issue.id] == 1 for issue in issues), "an issue without (or with two) `created` events: half-stored"
    numbers = Counter((issue.war_room_id, issue.number) for issue in issues)
    assert [key for key, count in numbers.items() if count > 1] == [], "two issues with one number"
    ours = {flow.form_id for flow in flows}
    strangers = [issue.title for issue in issues if issue.source_form_id not in ours and issue.id not in seeded.issue_ids]
    assert strangers == [], "issues no flow submitted"
    unfinished = [(flow.index, flow.state, flow.history) for flow in flows if flow.state != "done"]
    assert unfinished == [], f"flows that never got their issue after the restart and Teams' re-deliveries: {unfinished}"
    assert done_before_kill > 0 and len(done) > done_before_kill


async def test_a_mention_redelivered_after_a_crash_still_gets_its_form(
    tmp_path: Path, connector: RecordingConnector, bots: Bots, figures: dict[str, Any]
) -> None:
    """The deterministic form of the window the load test can hit: the bot dies while its form reply is on the wire.

    The dead process's claim on the mention holds it for the claim's lease: a re-delivery within it is answered 503
    (Teams tries again; a live replica answering it must not be doubled), and the first one after it gets the form.
    The claim is the same on both databases, so this runs on SQLite only; the load test above runs on both.
    """
    async with asyncio.timeout(180), fresh_database("sqlite", tmp_path) as url:
        database = Database(url)
        bot = bots("crash-mid-reply", url, scheduler_interval=0.2, HYPERCARE_CONNECTOR_MAX_ATTEMPTS="1")
        try:
            await bot.start()
            async with Client(connector, run=f"crash-{os.getpid()}", form_timeout=5) as client:
                flow = client.new_flow(bot.url, severity=2)
                # The Bot Connector takes the form reply but does not answer yet.
                connector.hang_for = lambda call: call.conversation_id == flow.conversation_id and call.method == "POST"
                mention = asyncio.create_task(client.post("mention", bot.url, flow.mention))
                while not connector.hanging:
                    await asyncio.sleep(0.02)
                killed_at_wall = utcnow()
                bot.kill()
                status, error = await mention
                connector.unhang.set()
                connector.hang_for = lambda call: False
                if status is not None:  # preconditions fail the test for real (pytest.fail is no AssertionError)
                    pytest.fail(f"the mention was answered ({status}) although the bot was killed while replying")
                await bot.start()
                figures["claim_left_by_the_dead_process"] = await database.activity_claim(flow.conversation_id, flow.mention["id"])
                # Teams re-delivers the unanswered mention at once: the dead process's claim still holds it.
                held, _ = await client.post("mention", bot.url, flow.mention)
                figures["redelivery_within_the_lease"] = held
                assert held == 503, f"a re-delivery within the dead claim's lease was answered {held}"
                if REAL_LEASE:
                    await _sit_out_the_lease(killed_at_wall)
                else:
                    assert await database.expire_activity_claims(taken_at_most=killed_at_wall) == 1
                # Teams tries again after the lease.
                got_form = await client.mention(flow)
                figures["redelivery"] = flow.history[-1]
                figures["form_posts_in_thread"] = len([c for c in connector.in_conversation(flow.conversation_id) if c.method == "POST"])
                assert got_form, f"no form after Teams' re-delivery: {flow.history}"
                if not await client.submit(flow):
                    pytest.fail(f"the form came but the submit failed: {flow.history} {flow.problem}")
                assert await database.activity_claim(flow.conversation_id, flow.mention["id"]) == "done"
        finally:
            await bots.stop_all()
            await database.close()


async def _sit_out_the_lease(killed_at_wall: datetime) -> None:
    """Wait until the dead process's leases (its outbox sends, its claims on activities) have run out."""
    await asyncio.sleep(max(0.0, (LEASE - (utcnow() - killed_at_wall)).total_seconds()) + 1)


def _seeded_posts(connector: RecordingConnector) -> list[Any]:
    return [call for call, _ in connector.posts() if (call.conversation_id or "").startswith("19:k9-")]


async def _finish(client: Client, flow: Flow) -> None:
    if await client.find_form(flow, timeout=10):
        await client.submit(flow)


async def _redeliver(client: Client, url: str) -> dict[str, int]:
    """Re-send, as Teams does, every mention that got no HTTP answer or a 503 and every submit that got no answer;
    then finish those flows."""
    counts: Counter[str] = Counter()
    gate = asyncio.Semaphore(6)

    async def again(flow: Flow) -> None:
        async with gate:
            flow.mention_url = flow.submit_url = url
            if flow.state == "mention_failed" and flow.mention_status in (None, 503):
                counts["mentions"] += 1
                if await client.mention(flow):
                    await client.submit(flow)
            elif flow.state in ("submit_failed", "submitted") and flow.submit_status is None:
                counts["submits"] += 1
                await client.submit(flow)
            elif flow.state == "formed":  # the load stopped between the form and the submit
                await client.submit(flow)

    await asyncio.gather(*(again(flow) for flow in list(client.flows)))
    return dict(counts)


async def _wait_until_drained(database: Database, *, timeout: float) -> float | None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        counts = await database.outbox_counts()
        if counts["pending"] == 0:
            return round(time.monotonic() - began, 2)
        await asyncio.sleep(0.25)
    return None
