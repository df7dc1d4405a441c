"""`make bench`: the hypercare bot beside its references, in one run, on the same payloads.

    python -m bench.run                     # everything (about 10 minutes on 2 cores)
    python -m bench.run --quick             # 1 s runs: a smoke test of the harness (make test runs one); never the saved results or doc
    python -m bench.run --only a,d,e,f      # some rows (f needs e before it on the same database)
    python -m bench.run --profile           # py-spy on (d), (e), (f), (h), (i): bench/results/profile.{json,md}

A benchmark, not a test: it reports and never asserts wall-clock times. Everything listens on 127.0.0.1;
every load run is bounded (wrk -d) and stops by itself. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import payloads
from bench.connector import ConnectorProcess
from bench.databases import (
    Database,
    clean_env,
    clone_issues,
    counts,
    drop,
    hypercare_binary,
    latest_chart,
    postgres_database,
    sqlite_database,
)
from bench.measure import (
    WrkResult,
    get_json,
    load_average,
    machine_cpu,
    median,
    postgres_cpu_seconds,
    post_json,
    process_cpu_seconds,
    process_rss_mib,
    run_wrk,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LOG_PROBLEMS = ("database is locked", "Traceback", " ERROR ", " CRITICAL ")
BOT_ROWS = ("d", "e", "f", "h", "i")
# Rows whose every request clicks another issue, each once (a second click would be a no-op): a supply of issues each.
CLICKED_ONCE = ("acknowledge", "signoff")
# Every answer of (h) is the viewer's own card: an issue card with a button of their role (Take: the on-call role)
# and without those of roles they do not hold (Change severity: a triage lead's), which the card everyone is sent has.
VIEWERS_CARD = ('issue.take"', 'issue.severity"')


@dataclass(frozen=True)
class Scenario:
    key: str  # "d/sqlite"
    row: str  # "d"
    title: str
    server: str  # bare | post | floor | echo | echo_db | bot
    template: str  # mention | submit | acknowledge | refresh | signoff
    db: str | None = None  # sqlite | postgres

    @property
    def label(self) -> str:
        suffix = {"sqlite": " · SQLite", "postgres": " · PostgreSQL", None: ""}[self.db]
        return f"({self.row}) {self.title}{suffix}"


def scenarios(databases: list[str]) -> list[Scenario]:
    found = [
        Scenario("a", "a", "bare aiohttp, read JSON, 200", "bare", "mention"),
        Scenario("b", "b", "bare + 1 POST, shared session", "post", "mention"),
        Scenario("c", "c", "stock CloudAdapter echo bot", "echo", "mention"),
    ]
    for db in databases:
        found += [
            Scenario(f"c'/{db}", "c'", "stock echo bot + 1 row", "echo_db", "mention", db),
            Scenario(f"g/{db}", "g", "floor: aiohttp + 1 row + 1 POST", "floor", "mention", db),
            Scenario(f"d/{db}", "d", "hypercare: mention → issue form", "bot", "mention", db),
            Scenario(f"e/{db}", "e", "hypercare: Action.Execute submit → issue", "bot", "submit", db),
            Scenario(f"f/{db}", "f", "hypercare: Acknowledge click → update", "bot", "acknowledge", db),
            Scenario(f"h/{db}", "h", "hypercare: card refresh → the viewer's card", "bot", "refresh", db),
            Scenario(f"i/{db}", "i", "hypercare: stand-up sign-off click → stand-up", "bot", "signoff", db),
        ]
    return found


@dataclass
class Settings:
    connections: int = 32
    seconds: float = 10.0
    warmup: float = 2.0
    repetitions: int = 3
    low_seconds: float = 5.0
    only: frozenset[str] = frozenset()
    postgres: bool = True
    profile: bool = False
    profile_seconds: float = 10.0
    loop_blocks: bool = False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening; log:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # aiohttp's run_app shuts down cleanly on SIGINT
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@dataclass
class RunFigures:
    """One bounded wrk run against a running server, and what the server did meanwhile."""

    wrk: WrkResult
    server_cpu_s: float
    connector_requests: int
    connector_connections: int
    connector_cpu_s: float
    machine_busy_cores: float
    rss_mib: float
    load_before: float
    replies_expected: bool = True
    database_cpu_s: float = 0.0  # PostgreSQL's processes (0 for SQLite, which runs inside the server)
    work_done: int | None = None  # what the requests stored, counted in the database (i: sign-offs)

    @property
    def processed(self) -> int:
        """Requests the server worked on: each answered with exactly one Bot Connector call (a: none), counted
        after the server went quiet, so requests wrk gave up on at the end are included; (i), whose clicks make
        several calls, by the sign-offs stored; (h), which makes none, by wrk's answers."""
        if self.work_done is not None:
            return max(self.work_done, self.wrk.requests)
        return max(self.connector_requests, self.wrk.requests) if self.replies_expected else self.wrk.requests

    def as_dict(self) -> dict[str, Any]:
        requests = self.processed or None
        return {
            **self.wrk.as_dict(),
            "processed": self.processed,
            "server_cpu_s": round(self.server_cpu_s, 3),
            "server_cpu_ms_per_request": round(1000 * self.server_cpu_s / requests, 3) if requests else None,
            "server_cores": round(self.server_cpu_s / self.wrk.seconds, 3) if self.wrk.seconds else None,
            "connector_requests": self.connector_requests,
            "connector_new_connections": self.connector_connections,
            "connector_cpu_s": round(self.connector_cpu_s, 3),
            "database_cpu_s": round(self.database_cpu_s, 3),
            "database_cpu_ms_per_request": round(1000 * self.database_cpu_s / requests, 3) if requests and self.database_cpu_s else None,
            "machine_busy_cores": round(self.machine_busy_cores, 2),
            # What else used the machine: busy cores minus the server, PostgreSQL, the fake connector and wrk.
            "other_load_cores": round(
                self.machine_busy_cores
                - (self.server_cpu_s + self.database_cpu_s + self.connector_cpu_s + self.wrk.wrk_cpu_seconds) / max(self.wrk.seconds, 0.001),
                2,
            ),
            "rss_mib_after": round(self.rss_mib, 1),
            "load_average_before": self.load_before,
            "work_done": self.work_done,
        }


class Bench:
    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        self.connector = ConnectorProcess()
        self.templates = {}
        for name in payloads.TEMPLATES:
            path = workdir / f"{name}.json"
            path.write_text(payloads.template(name, self.connector.url))
            self.templates[name] = path
        # Every request of the whole run gets its own @@ID@@ (activity id, thread root, form id).
        self._next_id = 1_732_352_400_000
        # Per supply ("acknowledge/sqlite", "signoff/postgres"): the next issue to click, the last one there is.
        self.issue_cursor: dict[str, int] = {}
        self.issue_max: dict[str, int] = {}
        self.models: dict[str, int | None] = {}  # per supply: the issue its copies are made of (None: any unacknowledged)
        self.refreshed: dict[str, tuple[int, int]] = {}  # per database: the issues (h) cycles through (first, how many)
        self.rates: dict[str, float] = {}

    def settle(self, pid: int | None = None, quiet: float = 0.4, limit: float = 15.0) -> None:
        """Wait until the server has finished its work: no Bot Connector call and (given `pid`) next to no CPU
        used by the server for `quiet` seconds."""
        deadline = time.monotonic() + limit

        def state() -> tuple[int, float]:
            return self.connector.stats()["requests"], process_cpu_seconds(pid) if pid else 0.0

        last_calls, last_cpu = state()
        since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            calls, cpu = state()
            if calls != last_calls or cpu - last_cpu > 0.02:
                last_calls, last_cpu, since = calls, cpu, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def take_ids(self) -> int:
        first = self._next_id
        self._next_id += 10_000_000
        return first

    # -- servers -------------------------------------------------------------------------------

    def start(
        self, scenario: Scenario, database: Database | None, log: Path, *, instrumented: bool = False
    ) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        url = database.url if database else ""
        if scenario.server == "bot":
            command = [hypercare_binary(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            if self.settings.loop_blocks:
                command = [sys.executable, "-m", "bench.servers.loopwatch", *command[1:]]
            if instrumented:
                command = [sys.executable, "-m", "bench.servers.instrumented", "--port", str(port)]
            env = clean_env(
                HYPERCARE_DATABASE_URL=url,
                HYPERCARE_SCHEDULER_INTERVAL_SECONDS="0",
                HYPERCARE_ADMINS=payloads.USER["aadObjectId"],
                HYPERCARE_ALLOWED_TENANTS=payloads.TENANT,
                MicrosoftAppId="",
                PYTHONPATH=str(ROOT),
            )
        else:
            module, extra = {
                "bare": ("bench.servers.bare", ["--mode", "bare"]),
                "post": ("bench.servers.bare", ["--mode", "post"]),
                "floor": ("bench.servers.bare", ["--mode", "floor", "--database-url", url]),
                "echo": ("bench.servers.echo", []),
                "echo_db": ("bench.servers.echo", ["--database-url", url]),
            }[scenario.server]
            command = [sys.executable, "-m", module, "--port", str(port), *extra]
            env = clean_env(PYTHONPATH=str(ROOT))
        with log.open("wb") as out:
            # cwd: an empty folder, so that no developer's .env is read.
            process = subprocess.Popen(command, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT, env=env)
        wait_listening(port, process, log)
        return process, port

    # -- one run -------------------------------------------------------------------------------

    def measure(
        self, scenario: Scenario, pid: int, port: int, *, connections: int, seconds: float, database: Database | None = None
    ) -> RunFigures:
        first_issue, span, expect = 0, 0, None
        supply = f"{scenario.template}/{scenario.db}"
        if scenario.template in CLICKED_ONCE:
            first_issue = self.issue_cursor[supply]
        if scenario.template == "refresh":
            (first_issue, span), expect = self.refreshed[scenario.db or ""], VIEWERS_CARD
        if scenario.template == "signoff":
            expect = (payloads.SIGNED_OFF, "")
        self.settle(pid)
        signed_off = counts(database).confirmed if scenario.template == "signoff" and database else None
        load = load_average()
        database_cpu0 = postgres_cpu_seconds() if scenario.db == "postgres" else 0.0
        cpu0, conn0, connector_cpu0, machine0 = process_cpu_seconds(pid), self.connector.stats(), process_cpu_seconds(self.connector.pid), machine_cpu()
        result = run_wrk(
            f"http://127.0.0.1:{port}/api/messages", self.templates[scenario.template], first_id=self.take_ids(),
            first_issue=first_issue, issue_span=span, expect=expect, connections=connections, seconds=seconds,
        )
        machine1 = machine_cpu()
        database_cpu1 = postgres_cpu_seconds() if scenario.db == "postgres" else 0.0
        # Requests still in flight when wrk stopped are finished by the server: wait for them, so that their
        # CPU and their replies are counted in this run (and the bot's work is counted by its replies).
        self.settle(pid)
        cpu1, conn1, connector_cpu1 = process_cpu_seconds(pid), self.connector.stats(), process_cpu_seconds(self.connector.pid)
        if signed_off is not None and database:
            signed_off = counts(database).confirmed - signed_off
        if scenario.template in CLICKED_ONCE:
            # Requests still in flight when wrk stopped (or timed out) may yet be applied: skip past them.
            self.issue_cursor[supply] = first_issue + result.requests + connections + result.socket_errors.get("timeout", 0)
        busy = (machine1[0] - machine0[0]) / max(result.seconds, 0.001)
        return RunFigures(
            wrk=result,
            server_cpu_s=cpu1 - cpu0,
            connector_requests=conn1["requests"] - conn0["requests"],
            connector_connections=conn1["connections"] - conn0["connections"],
            connector_cpu_s=connector_cpu1 - connector_cpu0,
            machine_busy_cores=busy,
            replies_expected=scenario.server != "bare" and scenario.template != "refresh",
            database_cpu_s=database_cpu1 - database_cpu0,
            work_done=signed_off,
            rss_mib=process_rss_mib(pid),
            load_before=load,
        )

    # -- what the clicking rows need: roles, and their supply of issues ------------------------------

    def prepare(self, scenario: Scenario, database: Database, port: int) -> None:
        """Through the product, before a row's first request: the roles its user clicks with, the issues it needs."""
        if scenario.template in ("acknowledge", "refresh"):
            self.say(port, "roles add me oncall")
        if scenario.template == "refresh" and database.kind not in self.refreshed:
            if counts(database).issues == 0:  # (h) alone: one issue raised, as (e) raises them
                self.post(port, payloads.submit())
            # Read-only: every issue stored so far, cycled through (all in the channel's war room: (h) runs before (i)).
            self.refreshed[database.kind] = (1, counts(database).max_id)

    def ensure_issues(self, scenario: Scenario, database: Database, seconds: float, connections: int, port: int) -> dict[str, Any]:
        """Enough issues for the next run, each clicked once (a second click is a no-op): for (f) unacknowledged ones
        stored by (e), for (i) resolved ones in the stand-up's war room; topped up by copying one of them in bulk."""
        db, supply = database.kind, f"{scenario.template}/{database.kind}"
        if supply not in self.issue_cursor:
            if scenario.template == "signoff":
                model = self.resolved_issue(database, port)
                # The model itself is past version 1 (raised, then resolved): its copies are clicked, at version 1.
                self.issue_cursor[supply], self.issue_max[supply], self.models[supply] = model + 1, model, model
            else:
                found = counts(database)
                if found.issues == 0:
                    raise RuntimeError("no issues to acknowledge: run (e) before (f) on the same database")
                self.issue_cursor[supply], self.issue_max[supply], self.models[supply] = 1, found.max_id, None
        # (i)'s stand-up reads its whole war room on every click: its own pace, not (d)'s, sizes what it is given.
        rows = (scenario.row,) if scenario.template == "signoff" else ("d", "e", "f")
        default = 10.0 if scenario.template == "signoff" else 100.0
        rate = max([self.rates.get(f"{row}/{db}", 0.0) for row in rows] + [default])
        need = int(2 * rate * (seconds + 1)) + 4 * connections
        available = self.issue_max[supply] - self.issue_cursor[supply] + 1
        seeded = 0
        if available < need:
            seeded = need - available
            self.issue_max[supply] = clone_issues(database, seeded, model=self.models[supply])
        return {"available": self.issue_max[supply] - self.issue_cursor[supply] + 1, "seeded": seeded}

    def resolved_issue(self, database: Database, port: int) -> int:
        """(i)'s war room made ready for sign-off through the product: an issue raised there, the benchmark's user made
        its triage lead (who may resolve and sign off), the issue resolved from its card, a stand-up posted (its chart
        is what the sign-off buttons carry). Returns the issue's id."""
        where = {"team_id": payloads.STANDUP_TEAM_ID, "channel_id": payloads.STANDUP_CHANNEL_ID}
        self.post(port, payloads.submit(**where))
        issue_id = counts(database).max_id
        self.say(port, "roles add me triage_lead", **where)
        answer = self.post(port, payloads.resolve(issue_id, version=1))
        if counts(database).awaiting_confirmation == 0:
            raise RuntimeError(f"resolving the stand-up's issue failed: {answer[:300]!r}")
        self.say(port, "standup", **where)
        self.templates["signoff"].write_text(payloads.render(payloads.signoff(latest_chart(database)), self.connector.url))
        return issue_id

    def post(self, port: int, activity: dict[str, Any]) -> bytes:
        """One activity to the bot, each with a fresh @@ID@@; its answer (200 or an error)."""
        body = payloads.fill(payloads.render(activity, self.connector.url), self.take_ids())
        status, answer = post_json(f"http://127.0.0.1:{port}/api/messages", body)
        if status != 200:
            raise RuntimeError(f"setting up failed: {status} {answer[:300]!r}")
        return answer

    def say(self, port: int, command: str, **where: str) -> None:
        """A command @mentioning the bot, from the benchmark's user (an admin through HYPERCARE_ADMINS)."""
        message = payloads.mention(command, **where)
        message["attachments"] = []
        self.post(port, message)

    # -- SQL per turn (profile mode) -------------------------------------------------------------

    def count_sql(self, scenario: Scenario, database: Database, requests: int = 20) -> dict[str, Any]:
        """Statements and transactions per request, from `requests` sequential requests to an instrumented copy."""
        log = self.workdir / f"sql-{scenario.key.replace('/', '-')}.log"
        process, port = self.start(scenario, database, log, instrumented=True)
        try:
            self.prepare(scenario, database, port)
            issues = [0] * requests
            if scenario.template in CLICKED_ONCE:
                supply = f"{scenario.template}/{database.kind}"
                # Skip past anything the load runs may still have clicked.
                self.issue_cursor[supply] += 2 * self.settings.connections
                self.ensure_issues(scenario, database, 0, requests, port)
                issues = [self.issue_cursor[supply] + i for i in range(requests)]
                self.issue_cursor[supply] += requests
            if scenario.template == "refresh":
                first, span = self.refreshed[database.kind]
                issues = [first + i % span for i in range(requests)]
            self.settle(process.pid)
            before = get_json(f"http://127.0.0.1:{port}/__sql")
            template, first = self.templates[scenario.template].read_text(), self.take_ids()
            for i in range(requests):
                status, body = post_json(f"http://127.0.0.1:{port}/api/messages", payloads.fill(template, first + i, issues[i]))
                if status != 200:
                    raise RuntimeError(f"instrumented {scenario.key}: HTTP {status} {body[:200]!r}")
            self.settle(process.pid)
            after = get_json(f"http://127.0.0.1:{port}/__sql")
        finally:
            stop(process)

        def per_request(key: str) -> dict[str, float]:
            delta = {k: v - before[key].get(k, 0) for k, v in after[key].items()}
            return {k: round(v / requests, 2) for k, v in sorted(delta.items(), key=lambda kv: -kv[1]) if v}

        return {
            "requests": requests,
            "statements_per_request": round((after["total"] - before["total"]) / requests, 2),
            "by_kind": per_request("kinds"),
            "transactions": per_request("transactions"),
            "statements": per_request("statements"),
        }

    # -- a scenario ----------------------------------------------------------------------------

    def run(self, scenario: Scenario, database: Database | None) -> dict[str, Any]:
        s = self.settings
        log = self.workdir / f"{scenario.key.replace('/', '-').replace(chr(39), 'p')}.log"
        started = time.monotonic()
        outcome: dict[str, Any] = {"key": scenario.key, "row": scenario.row, "label": scenario.label, "db": scenario.db}
        process, port = self.start(scenario, database, log)
        notes: list[str] = []
        try:
            pid = process.pid
            outcome["rss_mib_idle"] = round(process_rss_mib(pid), 1)
            before = counts(database) if scenario.server == "bot" and database else None
            if scenario.server == "bot" and database:
                self.prepare(scenario, database, port)
            supply: list[dict[str, Any]] = []
            supply_key = f"{scenario.template}/{scenario.db}"

            def one(connections: int, seconds: float) -> RunFigures:
                if scenario.template in CLICKED_ONCE:
                    assert database is not None
                    supply.append(self.ensure_issues(scenario, database, seconds, connections, port))
                figures = self.measure(scenario, pid, port, connections=connections, seconds=seconds, database=database)
                if scenario.template in CLICKED_ONCE and self.issue_cursor[supply_key] > self.issue_max[supply_key] + 1:
                    notes.append("ran out of issues to click: some clicks were no-ops")
                self.rates[scenario.key] = max(self.rates.get(scenario.key, 0.0), figures.wrk.rps)
                return figures

            warm = one(s.connections, s.warmup) if s.warmup > 0 else None
            measured_from = log.stat().st_size  # loop blocks: the start-up and the warm-up's first turns are not counted
            reps = [one(s.connections, s.seconds) for _ in range(s.repetitions)]
            low = one(1, s.low_seconds) if s.low_seconds > 0 else None
            profile = None
            if s.profile and scenario.server == "bot":
                from bench.profile import record

                if scenario.template in CLICKED_ONCE:
                    assert database is not None
                    supply.append(self.ensure_issues(scenario, database, s.profile_seconds, s.connections, port))
                profile = record(
                    pid, s.profile_seconds,
                    lambda: self.measure(scenario, pid, port, connections=s.connections, seconds=s.profile_seconds, database=database),
                    RESULTS / "profiles" / f"{scenario.key.replace('/', '-')}",
                )
            after = counts(database) if before is not None and database else None
        finally:
            stop(process)
        if profile is not None and database is not None:
            profile["sql"] = self.count_sql(scenario, database)
        text = log.read_text(errors="replace")
        problems = {needle.strip(): text.count(needle) for needle in LOG_PROBLEMS if needle in text}
        if process.returncode not in (0, -signal.SIGINT, 130):
            problems["exit status"] = process.returncode
        outcome.update(
            warmup=warm.as_dict() if warm else None,
            repetitions=[r.as_dict() for r in reps],
            low=low.as_dict() if low else None,
            log_problems=problems,
            log_excerpt=[line for line in text.splitlines() if any(n in line for n in LOG_PROBLEMS)][:8],
            first_traceback=first_traceback(text),
            issue_supply=supply or None,
            notes=notes,
            seconds_taken=round(time.monotonic() - started, 1),
        )
        if profile is not None:
            outcome["profile"] = profile
        if s.loop_blocks and scenario.server == "bot":
            outcome["loop_blocks"] = loop_blocks(log.read_bytes()[measured_from:].decode(errors="replace"))
        runs = [*(x for x in (warm, low) if x), *reps]
        total = sum(r.wrk.requests for r in runs) + (profile["run"]["requests"] if profile else 0)
        processed = sum(r.processed for r in runs) + (profile["run"]["processed"] if profile else 0)
        if before is not None and after is not None:
            outcome["work_done"] = {
                "requests": total,
                "processed": processed,
                "issues_created": after.issues - before.issues - sum(x.get("seeded", 0) for x in supply),
                "issues_acknowledged": after.acknowledged - before.acknowledged,
                "issues_signed_off": after.confirmed - before.confirmed,
            }
            checked = [r.wrk for r in runs if r.wrk.answers_checked is not None]
            if checked:
                outcome["work_done"]["answers_checked"] = sum(w.answers_checked or 0 for w in checked)
                outcome["work_done"]["answers_as_expected"] = sum(w.answers_as_expected or 0 for w in checked)
            if scenario.template == "refresh":
                outcome["work_done"]["issues_refreshed"] = self.refreshed[scenario.db or ""][1]
            if scenario.template == "signoff":
                # Its stand-up reads the whole war room: how big it was at the end says what a click read.
                outcome["work_done"]["standup_war_room_issues"] = self.issue_max[supply_key] - (self.models[supply_key] or 0) + 1
            done = outcome["work_done"]
            if done.get("answers_as_expected") != done.get("answers_checked"):
                notes.append(f"{done['answers_checked'] - done['answers_as_expected']} answers were not what the row expects")
            if scenario.template == "signoff" and done["issues_signed_off"] < done["requests"]:
                notes.append(f"{done['requests'] - done['issues_signed_off']} sign-off clicks answered to wrk recorded no sign-off")
        summarise(outcome)
        return outcome


_SLOW_CALLBACK = re.compile(r"Executing (.*) took (\d+\.\d+) seconds")


def loop_blocks(text: str, top: int = 3) -> dict[str, Any]:
    """asyncio debug mode's slow-callback lines in a server log (bench/servers/loopwatch.py): how many, the worst."""
    found = sorted(((float(seconds) * 1000, what) for what, seconds in _SLOW_CALLBACK.findall(text)), reverse=True)
    return {
        "count": len(found),
        "over_2_ms": sum(1 for ms, _ in found if ms > 2.0),
        "worst_ms": round(found[0][0], 1) if found else None,
        "worst": [{"ms": round(ms, 1), "callback": what[:300]} for ms, what in found[:top]],
    }


def first_traceback(text: str, limit: int = 60) -> list[str] | None:
    """The first traceback in a server log, whole (up to `limit` lines)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            block = [lines[i - 1]] if i else []
            for follow in lines[i : i + limit]:
                if block and follow[:4].isdigit() and follow is not line and len(block) > 2:
                    break  # the next timestamped log line
                block.append(follow)
            return block
    return None


def summarise(outcome: dict[str, Any]) -> None:
    reps = outcome["repetitions"]
    low = outcome["low"] or {}
    errors = sum(r["errors"] for r in reps) + (low.get("errors") or 0) + ((outcome["warmup"] or {}).get("errors") or 0)
    replies = sum(r["connector_requests"] for r in reps)
    connections = sum(r["connector_new_connections"] for r in reps)
    requests = sum(r["requests"] for r in reps)
    outcome["summary"] = {
        "rps": median([r["rps"] for r in reps]),
        "p50_ms": median([r["latency_ms"].get("50") for r in reps]),
        "p99_ms": median([r["latency_ms"].get("99") for r in reps]),
        "low_p50_ms": low.get("latency_ms", {}).get("50"),
        "low_p99_ms": low.get("latency_ms", {}).get("99"),
        "low_rps": low.get("rps"),
        "cpu_ms_per_request": median([r["server_cpu_ms_per_request"] for r in reps]),
        "database_cpu_ms_per_request": median([r.get("database_cpu_ms_per_request") for r in reps]),
        "low_cpu_ms_per_request": low.get("server_cpu_ms_per_request"),
        "rss_mib_after": reps[-1]["rss_mib_after"] if reps else None,
        "rss_growth_mib": round(reps[-1]["rss_mib_after"] - reps[0]["rss_mib_after"], 1) if len(reps) > 1 else None,
        "errors": errors,
        "log_problems": sum(v for v in outcome["log_problems"].values() if isinstance(v, int)) + len(outcome["notes"]),
        "replies_per_request": round(replies / requests, 3) if requests else None,
        "new_connections_per_reply": round(connections / replies, 4) if replies else None,
        "other_load_cores": median([r["other_load_cores"] for r in reps]),
    }


def ratios(results: list[dict[str, Any]]) -> None:
    by_key = {r["key"]: r["summary"] for r in results}

    def ratio(value: float | None, key: str) -> float | None:
        base = by_key.get(key, {}).get("rps")
        return round(value / base, 4) if value and base else None

    for result in results:
        summary, db = result["summary"], result["db"]
        summary["x_a"] = ratio(summary["rps"], "a")
        stock = f"c'/{db}" if db else "c"
        summary["vs_stock"] = stock if result["key"] != stock else "c"
        summary["x_stock"] = ratio(summary["rps"], summary["vs_stock"])
        summary["x_g"] = ratio(summary["rps"], f"g/{db}") if db else None
        floor_cpu = by_key.get(f"g/{db}", {}).get("cpu_ms_per_request") if db else None
        cpu = summary.get("cpu_ms_per_request")
        # Issue 16's CPU target is relative: the same run's floor on the same database (a busy machine inflates both).
        summary["cpu_x_g"] = round(cpu / floor_cpu, 2) if cpu and floor_cpu else None


def _at_most(key: str, limit: float) -> Any:
    return lambda s: None if s.get(key) is None else s[key] <= limit


def _at_least(key: str, limit: float) -> Any:
    return lambda s: None if s.get(key) is None else s[key] >= limit


# Each test answers True (met), False (missed) or None (not measured in this run); a row it does not apply to is left out.
TARGETS = [
    ("≥ 10× the throughput of (c') on the same database", _at_least("x_stock", 10)),
    ("≥ 0.8× the throughput of (g) on the same database", _at_least("x_g", 0.8)),
    ("server CPU ≤ 1.5× the floor's (g) on the same database", _at_most("cpu_x_g", 1.5)),
    ("p99 at 1 connection ≤ 15 ms", _at_most("low_p99_ms", 15.0)),
    ("zero errors (HTTP, sockets, server log)", lambda s: s["errors"] == 0 and s["log_problems"] == 0),
    ("≤ 0.01 new connector connections per reply", _at_most("new_connections_per_reply", 0.01)),
    ("RSS after the run ≤ 120 MiB", _at_most("rss_mib_after", 120)),
    ("RSS growth ≤ 5 MiB across repetitions", _at_most("rss_growth_mib", 5)),
]
# (h) is answered in the invoke alone: it calls the Bot Connector never, so it has no connections per reply.
NO_REPLIES = {"≤ 0.01 new connector connections per reply": frozenset({"h"})}


def targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    checked = []
    for name, test in TARGETS:
        rows = {r["key"]: test(r["summary"]) for r in results if r["row"] in BOT_ROWS and r["row"] not in NO_REPLIES.get(name, ())}
        met = False if False in rows.values() else None if (None in rows.values() or not rows) else True
        checked.append({"target": name, "met": met, "rows": rows})
    return checked


def machine() -> dict[str, Any]:
    with open("/proc/cpuinfo") as info:
        model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), platform.processor())
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average_at_start": load_average(),
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("botbuilder-core", "msrest", "aiohttp", "SQLAlchemy", "aiosqlite", "asyncpg", "pydantic"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    first = (wrk.stdout or wrk.stderr).split("\n")[0]
    found["wrk"] = first.split()[1].removeprefix("debian/") if len(first.split()) > 1 else first.strip()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, help="each measured repetition (10; --quick 1)")
    parser.add_argument("--warmup", type=float, help="(2; --quick 0)")
    parser.add_argument("--repetitions", type=int, help="(3; --quick 1)")
    parser.add_argument("--low-seconds", type=float, help="the 1-connection run (5; --quick 1)")
    parser.add_argument(
        "--quick", action="store_true",
        help="1 s runs, 1 repetition, no warm-up: checks the harness; writes the results only with --out, never the doc",
    )
    parser.add_argument("--only", default="", help="comma-separated rows (a,b,c,c',g,d,e,f,h,i) or keys (d/sqlite)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy on (d), (e), (f), (h), (i); writes bench/results/profile.*")
    parser.add_argument("--profile-seconds", type=float, help="(10; --quick 3)")
    parser.add_argument(
        "--loop-blocks", action="store_true",
        help="the bot rows under asyncio debug mode at 1 connection: every callback holding the loop ≥ 1 ms; bench/results/loop_blocks.json",
    )
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/latest.json (profile.json with --profile; a temporary file with --quick)")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server logs)")
    args = parser.parse_args(argv)
    settings = Settings(seconds=1.0, warmup=0.0, repetitions=1, low_seconds=1.0, profile_seconds=3.0) if args.quick else Settings()
    for name in ("seconds", "warmup", "repetitions", "low_seconds", "profile_seconds"):
        if getattr(args, name) is not None:  # what is given explicitly wins over --quick
            setattr(settings, name, getattr(args, name))
    settings.connections = args.connections
    settings.only = frozenset(x.strip() for x in args.only.split(",") if x.strip())
    settings.postgres, settings.profile, settings.loop_blocks = not args.no_postgres, args.profile, args.loop_blocks
    if args.loop_blocks:
        # One request at a time, so that a block is one turn's own, not a queue of them.
        settings.only = settings.only or frozenset(BOT_ROWS)
        settings.connections, settings.repetitions, settings.warmup, settings.low_seconds = 1, 1, 1.0, 0.0
    if args.profile:
        # The profile needs (e) before (f) and nothing else; one repetition each, short.
        settings.only = settings.only or frozenset(BOT_ROWS)
        settings.repetitions, settings.low_seconds = 1, 0.0
    if args.out:
        out = args.out
    elif args.quick:  # a quick run's figures are meaningless: they never replace the saved ones
        out = Path(tempfile.gettempdir()) / "hypercare-bench-quick.json"
    else:
        out = RESULTS / ("profile.json" if args.profile else "loop_blocks.json" if args.loop_blocks else "latest.json")
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="hypercare-bench-"))
    started = datetime.now(timezone.utc)
    clock = time.monotonic()
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.run", *(sys.argv[1:] if argv is None else argv)]),
        "settings": {k: (sorted(v) if isinstance(v, frozenset) else v) for k, v in vars(settings).items()},
        "machine": machine(),
        "versions": versions(),
        "skipped": [],
    }
    print(f"hypercare bench: work folder {workdir}; load average {report['machine']['load_average_at_start']}", flush=True)
    databases: dict[str, Database] = {}
    bench: Bench | None = None
    results: list[dict[str, Any]] = []
    try:
        bench = Bench(settings, workdir)
        wanted = [
            sc for sc in scenarios(["sqlite", "postgres"] if settings.postgres else ["sqlite"])
            if not settings.only or sc.row in settings.only or sc.key in settings.only
        ]
        for scenario in wanted:
            database = None
            if scenario.db:
                if scenario.db not in databases:
                    made = sqlite_database(workdir) if scenario.db == "sqlite" else postgres_database(workdir)
                    if isinstance(made, str):
                        report["skipped"].append(made)
                        print(f"  skipped: {made}", flush=True)
                        settings.postgres = False
                    else:
                        databases[scenario.db] = made
                database = databases.get(scenario.db)
                if database is None:
                    continue
            print(f"  {scenario.label} …", end="", flush=True)
            try:
                outcome = bench.run(scenario, database)
            except Exception as error:  # a broken row is reported, the others still run
                print(f" FAILED: {error}", flush=True)
                report["skipped"].append(f"{scenario.key}: {error}")
                continue
            results.append(outcome)
            summary = outcome["summary"]
            print(
                # A row slower than its run (i at 32 connections) completes nothing wrk can time: no p99.
                f" {summary['rps'] or 0:.0f} req/s, p99 {summary['p99_ms'] or float('nan'):.0f} ms, "
                f"{summary['cpu_ms_per_request'] or 0:.2f} ms CPU/req, errors {summary['errors']}"
                f"{' (other load ' + str(summary['other_load_cores']) + ' cores)' if (summary['other_load_cores'] or 0) > 0.3 else ''}",
                flush=True,
            )
    finally:
        if bench is not None:
            bench.connector.close()
        for database in databases.values():
            try:
                drop(database)
            except Exception as error:
                print(f"could not drop {database.name}: {error!r}", file=sys.stderr)
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    ratios(results)
    report["results"] = results
    report["targets"] = targets(results)
    report["machine"]["load_average_at_end"] = load_average()
    report["seconds_taken"] = round(time.monotonic() - clock, 1)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    from bench import report as render

    print()
    print(render.table(report))
    print()
    print(render.targets_text(report))
    print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} in {report['seconds_taken']:.0f} s")
    if args.profile:
        from bench.profile import write_markdown

        path = write_markdown(report, RESULTS / "profile.md")
        print(f"wrote {path.relative_to(ROOT)}")
    elif args.loop_blocks:
        for result in results:
            blocks = result.get("loop_blocks") or {}
            print(f"{result['label']}: worst {blocks.get('worst_ms')} ms, {blocks.get('over_2_ms')} over 2 ms of {blocks.get('count')} ≥ 1 ms")
            for worst in blocks.get("worst", []):
                print(f"    {worst['ms']} ms  {worst['callback'][:160]}")
    elif not (args.no_doc or args.quick):
        args.doc.write_text(render.with_changes(render.document(report, RESULTS / "profile.json"), RESULTS.parent.parent))
        print(f"wrote {args.doc.relative_to(ROOT) if args.doc.is_relative_to(ROOT) else args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
