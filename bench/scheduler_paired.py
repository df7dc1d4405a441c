"""Before/after of the 500-due tick on one seeded database, two source trees alternating in the same run.

    python -m bench.scheduler_paired --trees /path/to/before,. --rounds 3            # planning only
    python -m bench.scheduler_paired --trees /path/to/before,. --rounds 2 --whole    # the whole tick, sends included
    python -m bench.scheduler_paired --trees . --rounds 1 --profile                  # cProfile of the planning

The parent seeds one database (`bench.scheduler_seed`, as `bench.scheduler_scale` does) and starts the fake Bot
Connector with Teams' limits; each round runs this file once per tree as a child process with that tree first on
`PYTHONPATH`, so each child measures its own tree's scheduler through `bench.scheduler_scale`'s public helpers (which
both trees must have). Each repeat starts from the same due state and a fresh limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pickle
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


async def _child(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    from bench import scheduler_scale as bench
    from bench.scheduler_seed import set_due
    from bot.scheduler import TickReport
    from storage.db import create_engine, create_session_factory
    from storage.uow import UnitOfWorkFactory

    with open(args.state, "rb") as file:
        state = pickle.load(file)
    seeded = state["seeded"]
    connector = argparse.Namespace(url=state["connector_url"], control_url=state["control_url"])
    engine = create_engine(seeded.url)
    probe = bench.LoopProbe()
    probe.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            options = argparse.Namespace(due_ticks=args.repeats)
            ctx = bench.Context(seeded, engine, UnitOfWorkFactory(create_session_factory(engine)), http, connector, probe, options)
            if args.whole:
                due = await bench.due_ticks(ctx, profile=False)
                return {
                    "plan_ms": [run["phase_ms"]["plan_reminders"] for run in due["runs"]],
                    "tick_ms": [run["tick_ms"] for run in due["runs"]],
                    "deliver_ms": [run["phase_ms"]["deliver"] for run in due["runs"]],
                    "loop_block_ms": [run["loop_block_ms"] for run in due["runs"]],
                    "loop_block_plan_ms": [run["loop_block_by_phase_ms"].get("plan_reminders", 0.0) for run in due["runs"]],
                    "throttled_429": [run["throttled_429"] for run in due["runs"]],
                    "report": [run["report"] for run in due["runs"]],
                }
            plans, cpu, blocks, statements, cold, profile_text = [], [], [], [], [], ""
            # The first pass warms up connections, prepared statements and per-process caches: reported on its own.
            for repeat in range(args.repeats + 1):
                await set_due(seeded.dsn, seeded.due, due_now=True)
                scheduler, timer = bench.make_scheduler(ctx)
                report = TickReport()
                profiler = cProfile.Profile() if args.profile and repeat == args.repeats else None
                probe.reset()
                with bench.counting_sql(engine, probe, timer):
                    if profiler:
                        profiler.enable()
                    started, started_cpu = time.perf_counter(), time.process_time()
                    await scheduler.plan_reminders(bench.T0, report)
                    elapsed = (time.perf_counter() - started) * 1000
                    used = (time.process_time() - started_cpu) * 1000
                    if profiler:
                        profiler.disable()
                assert report.enqueued == len(seeded.due.ids), report
                if profiler:
                    stream = io.StringIO()
                    pstats.Stats(profiler, stream=stream).sort_stats(args.sort).print_stats(40)
                    profile_text = stream.getvalue()
                elif not repeat:
                    cold.append(round(elapsed, 1))
                else:
                    plans.append(round(elapsed, 1))
                    cpu.append(round(used, 1))
                    blocks.append(probe.max_ms)
                    statements.append(sum(timer.statements.values()))
            await set_due(seeded.dsn, seeded.due, due_now=False)
            return {"plan_ms": plans, "plan_cpu_ms": cpu, "loop_block_plan_ms": blocks, "statements": statements, "first_plan_ms": cold,
                    "profile": profile_text}
    finally:
        await probe.stop()
        await engine.dispose()


async def _seed(args: argparse.Namespace, state_path: Path) -> tuple[Any, Any]:
    import asyncpg

    from bench.connector import ConnectorProcess
    from bench.scheduler_scale import DEFAULT_ADMIN_URL
    from bench.scheduler_seed import SeedSpec, create_database, seed

    connector = ConnectorProcess(limits=True)
    if args.keep and Path(args.keep).exists():  # a database kept by an earlier run: point it at this connector
        with open(args.keep, "rb") as file:
            state = pickle.load(file)
        connection = await asyncpg.connect(state["seeded"].dsn)
        try:
            for table, column in (("conversations", "service_url"), ("war_rooms", "home_service_url"), ("outbox", "service_url")):
                await connection.execute(f"UPDATE {table} SET {column} = replace({column}, $1, $2)", state["connector_url"], connector.url)
        finally:
            await connection.close()
        state.update(connector_url=connector.url, control_url=connector.control_url)
        for path in (state_path, Path(args.keep)):
            with open(path, "wb") as file:
                pickle.dump(state, file)
        return connector, None
    name, url, dsn = await create_database(DEFAULT_ADMIN_URL, f"paired_{args.issues // 1000}k")
    print(f"seeding {args.issues:,} issues into {name} …", flush=True)
    seeded = await seed(dsn, SeedSpec(issues=args.issues, war_rooms=1000, tenants=25), connector_url=connector.url)
    seeded.url, seeded.database = url, name
    with open(state_path, "wb") as file:
        pickle.dump({"seeded": seeded, "connector_url": connector.url, "control_url": connector.control_url}, file)
    if args.keep:
        Path(args.keep).write_bytes(state_path.read_bytes())
        return connector, None
    return connector, name


def _run_child(tree: Path, args: argparse.Namespace, state_path: Path) -> dict[str, Any]:
    # Run as a path (the tree has no such module), not as a script: a script's folder would shadow the standard library.
    run = f"import runpy, sys; sys.argv[0] = {str(HERE)!r}; runpy.run_path({str(HERE)!r}, run_name='__main__')"
    command = [sys.executable, "-c", run, "--child", "--state", str(state_path), "--repeats", str(args.repeats),
               "--sort", args.sort, *(["--whole"] if args.whole else []), *(["--profile"] if args.profile else [])]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    output = subprocess.run(command, cwd=tree, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(output.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", default=".", help="comma-separated source trees, measured in turn each round")
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="500-due repeats per child")
    parser.add_argument("--whole", action="store_true", help="the whole tick (sends under the limits), not planning alone")
    parser.add_argument("--profile", action="store_true", help="cProfile one extra planning pass per child")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--keep", help="keep the database, described in this file, and reuse it when the file exists")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_child(args))))
        return
    from bench.scheduler_scale import DEFAULT_ADMIN_URL
    from bench.scheduler_seed import drop_database

    trees = [Path(tree).resolve() for tree in args.trees.split(",")]
    results: dict[str, dict[str, list[Any]]] = {str(tree): {} for tree in trees}
    with tempfile.TemporaryDirectory() as scratch:
        state_path = Path(scratch) / "state.pickle"
        connector, name = asyncio.run(_seed(args, state_path))
        try:
            print(f"load average {os.getloadavg()}", flush=True)
            for round_ in range(args.rounds):
                for tree in trees:
                    result = _run_child(tree, args, state_path)
                    if result.get("profile"):
                        print(f"--- profile, {tree}\n{result.pop('profile')}")
                    for key, values in result.items():
                        results[str(tree)].setdefault(key, []).extend(values if isinstance(values, list) else [values])
                    print(f"round {round_ + 1} {tree}: {result}", flush=True)
        finally:
            connector.close()
            if name is not None:
                asyncio.run(drop_database(DEFAULT_ADMIN_URL, name))
    print(f"load average {os.getloadavg()}")
    for tree, figures in results.items():
        medians = {key: statistics.median(values) for key, values in figures.items()
                   if values and all(isinstance(value, int | float) for value in values)}
        print(f"{tree}: medians {medians}")


if __name__ == "__main__":
    main()
