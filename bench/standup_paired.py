"""The stand-up build of two source trees, alternating on one seeded PostgreSQL database, and whether they agree.

    python -m bench.standup_paired --before /path/to/the/other/tree [--issues 100000] [--rounds 4] [--repeats 5]

Seeds one fresh `bench_sched_*` database (bench/scheduler_seed.py: 1,000 war rooms, the largest with 5% of the issues),
then runs rounds; each round measures the other tree, then this one, in processes of their own (`--measure`): every
process times `bot.services.standup.standup_summary` for the largest and the median war room (`--repeats` after a
warm-up), wall and CPU, and hashes the card it renders. Alternating in one run is what makes before/after comparable
on a busy machine; the same card hash shows the change did not change what the stand-up says. The database is dropped
afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.scheduler_seed import T_STANDUP, SeedSpec, create_database, drop_database, seed
from bench.scheduler_scale import DEFAULT_ADMIN_URL

ROOT = Path(__file__).resolve().parent.parent


async def measure(url: str, rooms: list[int], repeats: int) -> dict[str, Any]:
    # Imported here: the process measures whichever tree is first on its path.
    from bot.services.standup import standup_summary
    from cards.standup import render_standup
    from storage.db import create_engine, create_session_factory
    from storage.uow import UnitOfWorkFactory

    engine = create_engine(url)
    out: dict[str, Any] = {}
    try:
        async with UnitOfWorkFactory(create_session_factory(engine))() as uow:
            for room_id in rooms:
                room = await uow.war_rooms.get(room_id)
                wall, cpu = [], []
                for repeat in range(repeats + 1):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    summary = await standup_summary(uow, room, now=T_STANDUP)
                    if repeat:  # the first is a warm-up
                        wall.append((time.perf_counter() - started) * 1000)
                        cpu.append((time.process_time() - started_cpu) * 1000)
                card = json.dumps(render_standup(summary), sort_keys=True, default=str)
                out[str(room_id)] = {"wall_ms": wall, "cpu_ms": cpu, "card": hashlib.sha256(card.encode()).hexdigest()[:16]}
    finally:
        await engine.dispose()
    return out


def run_tree(tree: Path, url: str, rooms: list[int], repeats: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.standup_paired", "--measure", url, "--rooms", *map(str, rooms), "--repeats", str(repeats)],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


async def drive(options: argparse.Namespace) -> None:
    name, url, dsn = await create_database(options.postgres_url, "paired")
    try:
        seeded = await seed(dsn, SeedSpec(issues=options.issues, war_rooms=1000, tenants=25), connector_url="http://127.0.0.1:9")
        rooms = {"largest": seeded.largest_room, "typical": seeded.typical_room}
        print(f"seeded {options.issues:,} issues; largest war room {rooms['largest']} "
              f"({seeded.room_sizes[rooms['largest']]} issues), typical {rooms['typical']} ({seeded.room_sizes[rooms['typical']]})")
        trees = {"before": options.before.resolve(), "after": ROOT}
        results: dict[str, dict[str, dict[str, list[float]]]] = {t: {r: {"wall_ms": [], "cpu_ms": []} for r in rooms} for t in trees}
        cards: dict[str, set[str]] = {r: set() for r in rooms}
        for round_number in range(options.rounds):
            for tree, path in trees.items():
                got = await asyncio.to_thread(run_tree, path, url, list(rooms.values()), options.repeats)
                for label, room_id in rooms.items():
                    for key in ("wall_ms", "cpu_ms"):
                        results[tree][label][key] += got[str(room_id)][key]
                    cards[label].add(got[str(room_id)]["card"])
            print(f"round {round_number + 1}/{options.rounds} done", flush=True)
        for label in rooms:
            for tree in trees:
                figures = results[tree][label]
                print(f"{label:8} {tree:6} wall median {statistics.median(figures['wall_ms']):8.1f} ms (min {min(figures['wall_ms']):.1f}), "
                      f"CPU median {statistics.median(figures['cpu_ms']):8.1f} ms, n={len(figures['wall_ms'])}")
            print(f"{label:8} same card before and after: {len(cards[label]) == 1}")
    finally:
        await drop_database(options.postgres_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="the other source tree (e.g. `git worktree add` or `git archive` of the base)")
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--postgres-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--rooms", type=int, nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(asyncio.run(measure(options.measure, options.rooms, options.repeats))))
        return
    if options.before is None:
        parser.error("--before is required")
    asyncio.run(drive(options))


if __name__ == "__main__":
    main()
