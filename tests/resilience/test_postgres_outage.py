"""Scenario 2: PostgreSQL stopped for 10 s under load, then started again; the bot is not restarted.

The test runs its own PostgreSQL cluster (initdb in a temporary directory, its own port; the shared server on 5432
is never touched), migrates it with `hypercare migrate`, and runs `hypercare serve` on it with the scheduler on.
A client keeps mention -> form -> submit flows going and probes /readyz four times a second.

While the database is down: /readyz answers 503 "not ready"; /api/messages answers 503 quickly (measured; no
hang, no 500); the bot's log has no traceback. After the database is back: the bot is ready again by itself,
mentions get forms, submits store issues, and what Teams re-delivers (the activities answered 503) is handled.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.resilience.connector import RecordingConnector
from tests.resilience.postgres_cluster import private_cluster
from tests.resilience.processes import Bots, run_migrate
from tests.resilience.seeding import Database, utcnow
from tests.resilience.traffic import Client, Request, summarise

DOWN_FOR = 10.0
QUICK = 5.0  # "well under": the figure is reported; a 503 must never take this long


@pytest.mark.postgres
async def test_postgres_down_for_10_s_answers_503_quickly_then_recovers_without_restart(
    tmp_path: Path, connector: RecordingConnector, bots: Bots, figures: dict[str, Any],
    attach_log: Callable[[Path], None],
) -> None:
    attach_log(tmp_path / "postgres.log")
    attach_log(tmp_path / "migrate.log")
    async with asyncio.timeout(240), private_cluster(keep_log_as=tmp_path / "postgres.log") as cluster:
        await asyncio.to_thread(run_migrate, cluster.url, tmp_path, tmp_path / "migrate.log")
        bot = bots("pg-outage", cluster.url, scheduler_interval=0.5)
        await bot.start()
        async with Client(connector, run=f"pgdown-{os.getpid()}", form_timeout=5) as client:
            stop_load, stop_probe = asyncio.Event(), asyncio.Event()
            load = asyncio.create_task(client.stream([bot.url], stop_load, concurrency=3, pause=0.05))
            probes: list[tuple[Request, Any]] = []
            probe = asyncio.create_task(_probe_readiness(client, bot.url, stop_probe, probes))
            await asyncio.sleep(3.0)
            healthy_flows = sum(1 for flow in client.flows if flow.state == "done")

            stopping = time.monotonic()
            await cluster.stop("fast")
            down = time.monotonic()
            await asyncio.sleep(DOWN_FOR)
            starting, starting_wall = time.monotonic(), utcnow()
            await cluster.start()
            up = time.monotonic()

            # Recovery without a restart: ready again, by itself.
            while not any(request.started > up and request.status == 200 for request, _ in probes):
                if time.monotonic() - up > 30:
                    pytest.fail("/readyz still not 200 30 s after PostgreSQL came back")
                await asyncio.sleep(0.1)
            ready_again = min(request.started + request.latency for request, _ in probes if request.started > up and request.status == 200)
            await asyncio.sleep(2.0)
            stop_load.set()
            await load
            stop_probe.set()
            await probe

            # Afterwards: new flows work, and Teams' re-deliveries of what was answered 503 are handled.
            fresh = [client.new_flow(bot.url) for _ in range(5)]
            await asyncio.gather(*(client.run_flow(flow) for flow in fresh))
            database = Database(cluster.url)
            try:
                # Claims the shutdown left unfinished (an answer sent but not recorded, or a COMMIT whose reply was
                # lost) hold their mention for the lease (60 s; Teams tries again): end them as the clock would.
                figures["activity_claims_ended_by_test"] = await database.expire_activity_claims(taken_at_most=starting_wall)
                redelivered = [flow for flow in client.flows if flow.state in ("mention_failed", "submit_failed", "no_form")]
                for flow in redelivered:
                    if flow.state == "submit_failed":
                        await client.submit(flow)
                    else:
                        await client.run_flow(flow)
                # Dropped as a duplicate: not done, its mention recorded as answered, no form sent or queued.
                dropped = [
                    flow for flow in redelivered
                    if flow.state == "no_form" and await database.activity_claim(flow.conversation_id, flow.mention["id"]) == "done"
                    and not [call for call in connector.in_conversation(flow.conversation_id) if call.method == "POST"]
                ]
                stored = Counter(issue.source_form_id for issue in await database.issues())
            finally:
                await database.close()
        await bots.stop_all()  # before its database goes away for good

    outage = [r for r in client.requests if r.kind in ("mention", "submit") and r.started >= down and r.started + r.latency <= starting]
    outage_probes = [(r, body) for r, body in probes if r.started >= down and r.started + r.latency <= starting]
    errors = bot.error_lines()
    tracebacks = [line for line in bot.log_text().splitlines() if "Traceback" in line]
    figures.update(
        healthy_flows_before=healthy_flows,
        pg_stop_s=round(down - stopping, 2),
        pg_down_s=round(starting - down, 2),
        pg_start_s=round(up - starting, 2),
        ready_again_after_pg_up_s=round(ready_again - up, 2),
        outage_requests=summarise(outage),
        outage_statuses=dict(Counter(r.status for r in outage)),
        outage_max_latency_s=round(max((r.latency for r in outage), default=0.0), 3),
        readyz_during_outage=dict(Counter(f"{r.status}:{(body or {}).get('status') if isinstance(body, dict) else body}" for r, body in outage_probes)),
        readyz_max_latency_s=round(max((r.latency for r, _ in outage_probes), default=0.0), 3),
        all_requests=summarise(client.requests),
        redelivered_after_outage=len(redelivered),
        lost_after_redelivery=[(flow.index, flow.state, flow.history) for flow in dropped],
        fresh_flows_done=sum(1 for flow in fresh if flow.state == "done"),
        error_lines_in_log=len(errors),
        traceback_lines_in_log=len(tracebacks),
        error_lines_by_logger=dict(Counter(_logger(line) for line in errors if line[:1].isdigit())),
    )

    # What must hold (pytest.fail: a real failure even under the xfail below, which expects AssertionError only).
    require(len(outage) >= 5, "the client hardly spoke to the bot while the database was down")
    require({r.status for r in outage} == {503}, f"while PostgreSQL was down /api/messages answered {figures['outage_statuses']}")
    require(figures["outage_max_latency_s"] < QUICK, "a 503 took too long: the bot hung on the dead database")
    require(
        bool(outage_probes) and all(r.status == 503 and isinstance(body, dict) and body.get("status") == "not ready" for r, body in outage_probes),
        f"/readyz while PostgreSQL was down: {figures['readyz_during_outage']}",
    )
    require([flow.index for flow in fresh if flow.state != "done"] == [], f"new flows failed after recovery: {[f.history for f in fresh]}")
    require(
        [flow.index for flow in client.flows if flow.state == "done" and stored[flow.form_id] != 1] == [],
        "an issue whose card the client got is not stored exactly once",
    )
    # A re-delivery may only fail by being dropped as a duplicate, asserted below.
    require(
        [(flow.index, flow.history) for flow in redelivered if flow.state != "done" and flow not in dropped] == [],
        "Teams' re-delivery of an activity answered 503/500 was not handled",
    )

    # Known product problems (see the xfail reason); each assert names its evidence.
    assert 500 not in {r.status for r in client.requests}, (
        f"a request in flight when PostgreSQL shut down was answered 500: {figures['all_requests']['by_status']}; "
        f"log: {[line for line in errors if 'aiohttp.server' in line][:3]}"
    )
    assert tracebacks == [], f"{len(tracebacks)} tracebacks in the bot's log; ERROR lines by logger: {figures['error_lines_by_logger']}"
    assert figures["lost_after_redelivery"] == [], "re-delivered activities dropped as duplicates after a failed turn"


def require(condition: bool, message: str) -> None:
    if not condition:
        pytest.fail(message)


def _logger(line: str) -> str:
    parts = line.split(" ", 4)
    return parts[3].rstrip(":") if len(parts) > 3 else line


async def _probe_readiness(client: Client, url: str, stop: asyncio.Event, probes: list[tuple[Request, Any]]) -> None:
    while not stop.is_set():
        status, body = await client.get("readyz", f"{url}/readyz")
        probes.append((client.requests[-1], body))
        await asyncio.sleep(0.25)
