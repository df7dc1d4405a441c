"""The benchmarks still run after a refactor: `python -m bench.run --quick` on the bot's five rows (SQLite)
and `python -m bench.scheduler_scale` on a tiny seed (PostgreSQL), each in its own process as `make bench`
runs it. Never a time figure: the harness completes, measures every row it was asked for, and the product
did the work (requests answered through the fake connector, issues stored and acknowledged, every card refresh
answered with the viewer's own card and no PUT, resolutions signed off on the stand-up, reminders and stand-ups
delivered, no errors). Results go to a temporary folder; the saved results and docs are untouched.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scheduler_scale import HTTP_SEND, PHASES
from tests.support.databases import POSTGRES_URL, require_postgres

ROOT = Path(__file__).resolve().parents[2]
SAVED = ("bench/results/latest.json", "bench/results/scheduler.json", "docs/performance.md", "docs/performance-scheduler.md")


def saved_files() -> dict[str, str]:
    return {name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest() for name in SAVED}


def run_module(*args: str) -> None:
    completed = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]


def test_the_http_benchmark_measures_the_bot(tmp_path: Path) -> None:
    assert shutil.which("wrk"), "wrk is not installed: `make test` installs it (apt-get install wrk)"
    before = saved_files()
    out = tmp_path / "bench.json"

    run_module("bench.run", "--quick", "--only", "d,e,f,h,i", "--no-postgres", "--connections", "4", "--low-seconds", "0", "--out", str(out))

    report = json.loads(out.read_text())
    assert report["skipped"] == []
    rows = {row["key"]: row for row in report["results"]}
    assert set(rows) == {"d/sqlite", "e/sqlite", "f/sqlite", "h/sqlite", "i/sqlite"}
    for key, row in rows.items():
        (run,) = row["repetitions"]
        assert row["summary"]["errors"] == 0, (key, run)
        assert row["summary"]["log_problems"] == 0, (key, row["log_excerpt"], row["first_traceback"], row["notes"])
        assert run["requests"] > 0, key
        assert row["summary"]["cpu_ms_per_request"] > 0, key
        if key == "h/sqlite":
            continue  # a refresh is answered in the invoke alone: no call to the connector
        # The bot answered through the fake connector, on connections the fake counted (a fresh server opens some).
        assert run["connector_requests"] > 0, key
        assert sum(r["connector_new_connections"] for r in (row["warmup"], run, row["low"]) if r) > 0, key
    assert rows["e/sqlite"]["work_done"]["issues_created"] > 0
    assert rows["f/sqlite"]["work_done"]["issues_acknowledged"] > 0
    # (h): every answer was the viewer's own card, checked by the wrk script; nothing stored, nothing PUT.
    refresh = rows["h/sqlite"]
    assert refresh["work_done"]["answers_checked"] == refresh["work_done"]["answers_as_expected"] == refresh["work_done"]["requests"] > 0
    assert refresh["work_done"]["issues_refreshed"] > 0
    assert refresh["repetitions"][0]["connector_requests"] == 0
    assert refresh["work_done"]["issues_created"] == refresh["work_done"]["issues_acknowledged"] == 0
    # (i): every click answered with the stand-up saying it was signed off, and a sign-off stored for each.
    signoff = rows["i/sqlite"]["work_done"]
    assert signoff["answers_checked"] == signoff["answers_as_expected"] == signoff["requests"] > 0
    assert signoff["issues_signed_off"] >= signoff["requests"]
    assert signoff["standup_war_room_issues"] > signoff["issues_signed_off"]
    assert {target["target"] for target in report["targets"]} and all(target["rows"] for target in report["targets"])
    assert saved_files() == before


@pytest.mark.postgres
async def test_the_scheduler_benchmark_drives_the_real_scheduler(tmp_path: Path) -> None:
    await require_postgres()
    before = saved_files()
    out = tmp_path / "scheduler.json"

    run_module(
        "bench.scheduler_scale", "--quick", "--postgres-url", POSTGRES_URL, "--variants", "300", "--war-rooms", "4",
        "--tenants", "2", "--idle-ticks", "2", "--due-ticks", "1", "--standup-repeats", "1", "--standups",
        "--interval", "0.5", "--out", str(out),
    )

    results = json.loads(out.read_text())
    (variant,) = results["variants"].values()
    assert variant["seed"]["rows"]["issues"] == 300
    assert variant["idle"]["ticks_that_found_something"] == 0
    assert set(variant["idle"]["phase_ms"]) == set(PHASES)
    assert variant["idle"]["statements_per_tick"] > 0
    due = variant["due"]["due_issues"]
    assert due > 0
    (run,) = variant["due"]["runs"]
    assert run["report"]["planned"] == due
    assert run["report"]["sent"] + run["report"]["retried"] == due and run["report"]["failed"] == 0
    assert run["sent_at_fake"] == run["report"]["sent"]
    # Each phase of the real tick was timed and its SQL counted, and every send went through the timed sender.
    assert set(PHASES) | {HTTP_SEND} <= set(run["phase_ms"])
    assert run["statements"].get("plan_reminders", 0) > 0 and run["statements"].get("deliver", 0) > 0
    assert all(plan["plan"] for plan in variant["explain_idle"].values()) and len(variant["explain_idle"]) == 6
    assert variant["tick_statements"]
    assert variant["standup_build"]["largest"]["build_ms"]["n"] == 1
    standups = results["standups_at_once"]
    assert not standups["capped"]
    assert standups["totals"]["standups"] == standups["totals"]["sent"] == 4
    assert sum(batch["standups"] for batch in standups["enqueue_batches"]) == 4
    assert standups["outbox_status"] == {"sent": 4}
    assert saved_files() == before
