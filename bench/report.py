"""The benchmark's table, targets and docs/performance.md, from bench/results/latest.json (and profile.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _n(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{suffix}"


def _x(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}×" if value < 0.1 else f"{value:.2f}×" if value < 10 else f"{value:.1f}×"


def table(report: dict[str, Any]) -> str:
    head = (
        "| row | req/s | p50 ms | p99 ms | p99 @1 conn ms | server CPU ms/req | RSS MiB | RSS growth MiB | errors "
        "| new conn/reply | × (a) | × (c/c') | × (g) | CPU × (g) |"
    )
    lines = [head, "|" + "---|" * 14]
    for result in report["results"]:
        s = result["summary"]
        errors = str(s["errors"])
        if s["log_problems"]:
            errors += f" + {s['log_problems']} in log"
        stock = s.get("x_stock")
        lines.append(
            "| "
            + " | ".join(
                [
                    result["label"],
                    _n(s["rps"]),
                    _n(s["p50_ms"], 1),
                    _n(s["p99_ms"], 1),
                    _n(s["low_p99_ms"], 1),
                    _n(s["cpu_ms_per_request"], 2),
                    _n(s["rss_mib_after"], 1),
                    _n(s["rss_growth_mib"], 1),
                    errors,
                    _n(s["new_connections_per_reply"], 3) if s["replies_per_request"] else "—",
                    _x(s.get("x_a")),
                    (_x(stock) + f" ({s['vs_stock']})") if stock is not None and result["row"] not in ("a",) else "—",
                    _x(s.get("x_g")),
                    _x(s.get("cpu_x_g")),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def targets_text(report: dict[str, Any]) -> str:
    lines = ["| target (rows d, e, f, h, i) | met | per row |", "|---|---|---|"]
    for target in report["targets"]:
        word = {True: "yes", False: "NO", None: "not measured"}
        rows = ", ".join(f"{key} {word[ok]}" for key, ok in target["rows"].items()) or "not measured"
        met = {True: "yes", False: "**no**", None: "not measured"}[target["met"]]
        lines.append(f"| {target['target']} | {met} | {rows} |")
    return "\n".join(lines)


def _conditions(report: dict[str, Any]) -> str:
    m = report["machine"]
    others = [r["summary"].get("other_load_cores") for r in report["results"] if r["summary"].get("other_load_cores") is not None]
    busiest = max(others) if others else None
    settings = report["settings"]
    text = (
        f"Taken {report['started_at']} with `{report['command']}` on {m['cpus']} × {m['cpu_model']}, Python {m['python']}; "
        f"{settings['connections']} connections × {settings['repetitions']} runs of {settings['seconds']:g} s after a "
        f"{settings['warmup']:g} s warm-up, medians; then {settings['low_seconds']:g} s at 1 connection. "
        f"Load average {m['load_average_at_start']} at the start, {m.get('load_average_at_end', '?')} at the end"
    )
    if busiest is not None:
        text += (
            f"; other processes used up to {busiest:.1f} of the {m['cpus']} cores during a run (machine busy minus the server, "
            "PostgreSQL, the fake connector and wrk)"
        )
    text += ". Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + "."
    if busiest is not None and busiest > 0.3:
        text += (
            "\n\n**The machine was shared with other work during this run**: throughput and latency are low and noisy; "
            "CPU per request is the steadiest column. Take final figures on a quiet machine with `make bench`."
        )
    return text


def _work_done(report: dict[str, Any]) -> str:
    lines = []
    for result in report["results"]:
        done = result.get("work_done")
        s = result["summary"]
        if result["row"] == "e" and done:
            lines.append(
                f"- {result['label']}: {done['requests']} submits answered to wrk ({done.get('processed', '?')} processed, "
                f"counting those still in flight when a run ended), {done['issues_created']} issues stored."
            )
        elif result["row"] == "f" and done:
            lines.append(
                f"- {result['label']}: {done['requests']} clicks answered to wrk ({done.get('processed', '?')} processed), "
                f"{done['issues_acknowledged']} issues acknowledged."
            )
        elif result["row"] == "h" and done:
            lines.append(
                f"- {result['label']}: {done['requests']} refreshes answered to wrk, cycling through {done['issues_refreshed']} "
                f"issues; {done.get('answers_as_expected', '?')} of {done.get('answers_checked', '?')} answers were the "
                "viewer's own card (Take, no Change severity); nothing stored."
            )
        elif result["row"] == "i" and done:
            lines.append(
                f"- {result['label']}: {done['requests']} clicks answered to wrk ({done.get('processed', '?')} processed), "
                f"{done['issues_signed_off']} resolutions signed off; {done.get('answers_as_expected', '?')} of "
                f"{done.get('answers_checked', '?')} answers were the stand-up saying so; the stand-up's war room held "
                f"{done['standup_war_room_issues']} issues at the end."
            )
        if s.get("database_cpu_ms_per_request"):
            lines.append(
                f"- {result['label']}: PostgreSQL's processes used {s['database_cpu_ms_per_request']:.2f} ms CPU per request "
                "(not in the server CPU column)."
            )
        if s["replies_per_request"] is not None and result["row"] not in ("a",):
            lines.append(f"- {result['label']}: {s['replies_per_request']} Bot Connector calls per request.")
        for note in result.get("notes", []):
            lines.append(f"- {result['label']}: {note}.")
        for line in result.get("log_excerpt", [])[:3]:
            lines.append(f"- {result['label']} log: `{line.strip()[:200]}`")
    for skipped in report.get("skipped", []):
        lines.append(f"- skipped: {skipped}")
    return "\n".join(lines)


def profile_section(profile: dict[str, Any]) -> str:
    out = [
        f"Profiled {profile['started_at']} with `{profile['command']}`: py-spy at 250 Hz on the server process (every "
        f"thread) during one {profile['settings']['profile_seconds']:g} s run at {profile['settings']['connections']} "
        "connections. Waiting samples (the event loop in epoll, aiosqlite's thread on its queue) are left out: "
        "percentages are of the busy samples. *self*: the function itself was running; *cumulative*: it was on the "
        "stack (event-loop and aiohttp plumbing left out). SQLAlchemy's async layer runs the ORM in greenlets, so "
        "database work appears under `Session.execute` rather than under the service that asked for it; the SQL "
        "counts below say which. Raw collapsed stacks (gzip; flamegraph.pl and speedscope read them): `bench/results/profiles/`."
    ]
    for result in profile["results"]:
        data = result.get("profile")
        if not data:
            continue
        run = data["run"]
        threads = ", ".join(f"{t['name']} {t['percent']}%" for t in data.get("by_thread", []))
        out.append(
            f"\n#### {result['label']}\n\n{data['busy_samples']} busy samples ({threads}); during the profiled run "
            f"{run['rps']:.0f} req/s, {run['server_cpu_ms_per_request'] or 0:.2f} ms server CPU per request.\n"
        )
        out.append("| # | self | % | cumulative | % |\n|---|---|---|---|---|")
        for i, (own, cumulative) in enumerate(zip(data["top_self"], data["top_cumulative"]), start=1):
            if i > 10:
                break
            out.append(f"| {i} | `{own['name']}` | {own['percent']} | `{cumulative['name']}` | {cumulative['percent']} |")
        components = "; ".join(f"{x['name']} {x['percent']}%" for x in data.get("components", []))
        libraries = ", ".join(f"{x['name']} {x['percent']}%" for x in data["self_by_library"])
        out.append(f"\nOn the stack: {components}.\n\nSelf time by library: {libraries}.")
        sql = data.get("sql")
        if sql:
            kinds = ", ".join(f"{v:g} {k}" for k, v in sql["by_kind"].items())
            transactions = ", ".join(f"{v:g} {k}" for k, v in sql["transactions"].items())
            out.append(
                f"\nSQL per request ({sql['requests']} sequential requests to an instrumented copy): "
                f"**{sql['statements_per_request']:g} statements** ({kinds}); transactions: {transactions}.\n"
            )
            out.append("| per request | statement |\n|---|---|")
            for statement, count in list(sql["statements"].items())[:14]:
                out.append(f"| {count:g} | `{statement.replace('|', '/')}` |")
    return "\n".join(out)


ROWS = """\
| row | what runs | why it is there |
|---|---|---|
| (a) | bare aiohttp: read the ~2 KB activity, `json.loads`, answer 200 | the ceiling of Python + aiohttp on this machine |
| (b) | (a) + one POST of a reply to the fake Bot Connector over one shared keep-alive `ClientSession` | the cost of the reply alone |
| (c) | Microsoft's echo bot on botbuilder 4.17.1: `CloudAdapter(ConfigurationBotFrameworkAuthentication(...))`, empty app id (anonymous), `send_activity` to the activity's `serviceUrl` (the fake connector) | what the stock SDK costs |
| (c') | (c) + one row written through SQLAlchemy async per message, on the bot's own engine (`storage.db.create_engine`) and database | the stock SDK with the least a stateful bot does |
| (g) | aiohttp + one row through SQLAlchemy async + one POST over a shared session | the floor for a bot that stores something and replies |
| (d) | hypercare: a channel post @mentioning the bot → the prefilled issue form as a reply | the most common turn |
| (e) | hypercare: Action.Execute *Raise issue* (fresh `form_id` each time) → issue stored, issue card as the invoke answer, card `PUT` for everyone | creating an issue |
| (f) | hypercare: Action.Execute *Acknowledge* by an oncall user, each issue clicked once at version 1 → issue updated, card answer + `PUT` | a triage click |
| (h) | hypercare: the issue card's `refresh` (`adaptiveCard/action`, verb `issue.view`, trigger `automatic`) from an oncall user, cycling through the issues stored → the viewer's own card as the answer, nothing stored, no `PUT` | Teams asks it for every listed viewer who looks at a card |
| (i) | hypercare: *Confirm* on the stand-up's sign-off section by a triage lead, in a war room of its own, each resolved issue clicked once at version 1 → sign-off recorded, the issue closed, the stand-up redrawn as the answer + `PUT` + the issue's card updated | signing off resolutions at the stand-up |

Every request is unique where the bot deduplicates: activity id, the thread's conversation id
(`19:…;messageid=<n>`), the form id; (f) clicks each issue once (issues stored by (e), topped up by copying
one of them in bulk through the product's own table definition when (e) made too few); (h) refreshes the issues
stored so far, each answer checked by the wrk script (the viewer's card has Take and no Change severity); (i) works
in a second team, whose war room is made ready through the bot (an issue raised, `roles add me triage_lead`, the issue
resolved from its card), then that resolved issue is copied in bulk like (f)'s, and every answer and sign-off is
counted. (d)–(i) run on
SQLite and on PostgreSQL, each a fresh database migrated by `hypercare migrate` (PostgreSQL: a `bench_*`
database on 127.0.0.1:5432, dropped afterwards); (c') and (g) write to the same database. The bot runs as
`hypercare serve` in local mode (`MicrosoftAppId` empty) with `HYPERCARE_SCHEDULER_INTERVAL_SECONDS=0`,
`HYPERCARE_ALLOWED_TENANTS` set and its default `INFO` logging; the clicker of (f) is an admin through
`HYPERCARE_ADMINS` and gives themself the oncall role (`roles add me oncall`) first ((h) too).

Columns:

- **req/s, p50, p99**: wrk (one thread, 32 connections, a Lua script that builds each body from a counter),
  median of the repetitions. **p99 @1 conn**: the same at one connection, the latency of an idle bot.
- **server CPU ms/req**: utime + stime of the server process (all its threads, from `/proc/<pid>/stat`)
  over a run ÷ requests it worked on (its Bot Connector calls, counted once it went quiet, so requests still in
  flight when wrk stopped count too; (i) by the sign-offs stored, since a click makes several calls; (h), which makes
  none, by wrk's answers). PostgreSQL's own processes are not in it; the checks list their CPU
  per request (every `postgres` process on the machine, so other users of the server count too).
- **RSS**: `VmRSS` after the last repetition; **growth**: last repetition minus first.
- **errors**: non-2xx answers and socket errors (connect, read, write, timeout at 10 s) of all runs; "in log":
  `database is locked`, `Traceback`, `ERROR` lines in the server's log, a bad exit, or (f) running out of issues.
- **new conn/reply**: TCP connections the fake Bot Connector accepted ÷ calls it answered (1.0 = a new
  connection per reply; 0 = one keep-alive connection reused).
- **× (a)**, **× (c/c')**, **× (g)**: throughput ratios; the comparison for a database row is the row of the
  same database.
"""


def _reading(report: dict[str, Any]) -> str:
    """How far the bot is from its floor in this run: what the CPU and throughput targets ask."""
    by_key = {r["key"]: r["summary"] for r in report["results"]}
    lines = []
    for db, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        floor, stock = by_key.get(f"g/{db}"), by_key.get(f"c'/{db}")
        if not floor or not floor.get("cpu_ms_per_request"):
            continue
        bot = [
            f"({row}) {by_key[f'{row}/{db}']['cpu_ms_per_request'] / floor['cpu_ms_per_request']:.1f}×"
            for row in ("d", "e", "f", "h", "i")
            if by_key.get(f"{row}/{db}", {}).get("cpu_ms_per_request")
        ]
        text = f"{label}: the floor (g) costs {floor['cpu_ms_per_request']:.2f} ms of server CPU per request"
        if stock and stock.get("rps") and floor.get("rps"):
            text += f" and does {floor['rps'] / stock['rps']:.1f}× the throughput of (c')"
        text += f"; the bot's turns cost {', '.join(bot)} the floor's CPU." if bot else "."
        lines.append(f"- {text}")
    if not lines:
        return ""
    return (
        "**Reading the targets.** \"≤ 1.5× the floor's CPU\" and \"≥ 0.8× (g)\" ask the bot to come close to a bare "
        "aiohttp handler that inserts one row and posts one reply, and \"≥ 10× (c')\" is about the same bar, since the "
        "floor itself is about 10× the stock bot:\n\n" + "\n".join(lines) + "\n\nThe p99 at one connection of (g) "
        "is in the table: on a shared machine it is itself near 15 ms, so take that target from a quiet run.\n"
    )


def document(report: dict[str, Any], profile_path: Path) -> str:
    parts = [
        "# Performance",
        "",
        "`make bench` runs the hypercare bot beside its references, in one run, on the same payloads, and writes",
        "`bench/results/latest.json` and this page. It is a benchmark, not a test: it reports and never fails on a",
        "time. Everything listens on 127.0.0.1 and every load run is bounded (wrk `-d`).",
        "",
        "```sh",
        "make bench                                    # installs wrk (Debian) if missing; about 10 minutes on 2 cores",
        ".venv/bin/python -m bench.run --quick         # 1 s runs: checks the harness (make test does), figures meaningless",
        ".venv/bin/python -m bench.run --only a,c,d    # some rows; --no-postgres without a server",
        ".venv/bin/pip install py-spy && .venv/bin/python -m bench.run --profile   # where the time goes",
        ".venv/bin/python -m bench.run --loop-blocks  # every callback holding the event loop ≥ 1 ms, per turn (asyncio debug)",
        ".venv/bin/python -m bench.statement_cost     # CPU of one SQL statement through Session, Core and the driver",
        "```",
        "",
        "Take figures that matter on a quiet machine (nothing else running: `uptime` load average near 0), with",
        "`make bench`. The harness itself (wrk, the fake connector) shares the same cores as the server.",
        "",
        "The harness: `bench/run.py` (orchestration, figures, targets), `bench/connector.py` (the tests' fake Bot",
        "Connector in its own process, counting accepted TCP connections), `bench/servers/` (the bare, floor and stock",
        "echo servers; an SQL-counting copy of the bot for `--profile`), `bench/wrk/activities.lua` (bodies from a",
        "counter), `bench/payloads.py` (the ~2 KB Teams activities), `bench/profile.py` (py-spy), `bench/report.py`",
        "(this page; `python -m bench.report` re-renders it from the saved JSON).",
        "",
        "## Latest results",
        "",
        _conditions(report),
        "",
        table(report),
        "",
        "### Targets",
        "",
        targets_text(report),
        "",
        "### Checks",
        "",
        _work_done(report) or "- nothing to report",
        "",
        "## What each row means",
        "",
        ROWS,
        "## Where the time goes",
        "",
    ]
    if profile_path.exists():
        profile = json.loads(profile_path.read_text())
        parts.append(profile_section(profile))
    else:
        parts.append("No profile yet: `.venv/bin/python -m bench.run --profile` writes `bench/results/profile.json`.")
    parts += ["", FINDINGS, _reading(report)]
    return "\n".join(parts) + "\n"


FINDINGS = """\
## What to take out of the hot path

The first round's ranked list and issue 16's ("speed, round two") are done, or measured and left with a reason, in
*What was changed on the hot path* below (changes 1–18; its "Round two" part says what is left and why). Read the profile above with it: its
"SQL per request" tables say which statements a turn still makes, and its "on the stack" line where the CPU goes.
"""


def with_changes(document_text: str, root: Path) -> str:
    """The hand-written record of what was changed (docs/performance-changes.md), kept under the generated part."""
    changes = root / "docs" / "performance-changes.md"
    return document_text.rstrip() + "\n\n" + changes.read_text() if changes.exists() else document_text


def main() -> None:
    """Re-render docs/performance.md from the saved results, without running anything."""
    root = Path(__file__).resolve().parent.parent
    results = root / "bench" / "results"
    report = json.loads((results / "latest.json").read_text())
    (root / "docs" / "performance.md").write_text(with_changes(document(report, results / "profile.json"), root))
    print("wrote docs/performance.md")


if __name__ == "__main__":
    main()
