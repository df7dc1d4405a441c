"""py-spy on the running bot during one load run: where the CPU time goes, self and cumulative.

    .venv/bin/pip install py-spy           # once (or PYSPY=/path/to/py-spy)
    .venv/bin/python -m bench.run --profile

py-spy samples the server from outside (ptrace), so the server runs unmodified. Raw collapsed stacks
(gzip; flamegraph.pl and speedscope read them) go to bench/results/profiles/, the top items per scenario to
bench/results/profile.json and profile.md.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

TOP = 12
ROOT = Path(__file__).resolve().parent.parent


def pyspy_binary() -> str:
    for candidate in (os.environ.get("PYSPY"), str(Path(sys.executable).parent / "py-spy"), shutil.which("py-spy")):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("py-spy is not installed: `.venv/bin/pip install py-spy` (or set PYSPY=/path/to/py-spy)")


def _frame_name(frame: str) -> str:
    """`render_issue_card (cards/issue_card.py:120)` -> `render_issue_card (cards/issue_card.py)`: per function."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if path else name


def _idle_lines() -> set[str]:
    """Leaf frames that are waiting, not working. py-spy's own idle detection does not work in this sandbox
    (its samples show the event loop inside epoll and aiosqlite's thread waiting on its queue), so they are
    recognised here: the selector's wait, and the `tx.get()` line of aiosqlite's worker thread."""
    idle = {"EpollSelector.select (", "PollSelector.select (", "SelectSelector.select ("}
    try:
        import aiosqlite.core as core

        with open(core.__file__) as source:
            for number, line in enumerate(source, start=1):
                if "tx.get()" in line:
                    idle.add(f"_connection_worker_thread (aiosqlite/core.py:{number})")
    except (ImportError, OSError):
        pass
    return idle


def _area(frame: str) -> str:
    """Which library or part of the product a frame belongs to (py-spy prints paths relative to sys.path)."""
    where = frame.partition(" (")[2]
    if not where:
        return "native (no Python frame)"
    for prefix, label in (
        ("botbuilder/", "botbuilder"), ("msrest/", "msrest"), ("botframework/", "botframework-connector"),
        ("sqlalchemy/", "SQLAlchemy"), ("aiosqlite/", "aiosqlite"), ("asyncpg/", "asyncpg"), ("pydantic", "pydantic"),
        ("aiohttp/", "aiohttp"), ("multidict/", "aiohttp"), ("yarl/", "aiohttp"), ("logging/", "logging"),
        ("asyncio/", "asyncio"), ("selectors.py", "asyncio"), ("json/", "json"), ("html/", "html"),
        ("bot/teams/", "bot/teams"), ("bot/domain/", "bot/domain"), ("bot/", "bot"), ("cards/", "cards"),
        ("storage/", "storage"), ("app.py", "bot"),
    ):
        if where.startswith(prefix) or f"/{prefix}" in where:
            return label
    return "stdlib and other"


# What the time is spent on, for suggestions: a sample counts for every component on its stack.
COMPONENTS = (
    ("msrest: Activity (de)serialisation", ("msrest/serialization.py",)),
    ("SQLAlchemy (ORM, Core, compile, results)", ("sqlalchemy/",)),
    ("database driver (aiosqlite / asyncpg)", ("aiosqlite/", "asyncpg/")),
    ("cards: building Adaptive Cards", ("/cards/",)),
    ("the parser (bot/domain/parsing.py)", ("bot/domain/parsing.py",)),
    ("pydantic validation and models", ("pydantic/", "pydantic_core")),
    ("logging (incl. aiohttp access log)", ("logging/", "aiohttp/web_log.py")),
    ("json encode/decode", ("json/",)),
    ("HTML to text (bot/teams/activities.py)", ("html_to_text (",)),
    ("aiohttp client: Bot Connector calls", ("aiohttp/client", "aiohttp/connector.py")),
    ("copy.deepcopy", ("copy.py",)),
)


def analyse(raw: Path) -> dict[str, Any]:
    """Self and cumulative busy samples per function, per library and per component from py-spy's raw stacks."""
    idle_lines = _idle_lines()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    components: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    samples = idle = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        raw_frames = [f for f in stack.split(";") if f]
        thread = raw_frames[0].split(": ", 1)[-1] if raw_frames and raw_frames[0].startswith("thread (") else "?"
        raw_frames = [f for f in raw_frames if not f.startswith(("thread (", "process "))]
        samples += count
        leaf = raw_frames[-1] if raw_frames else "(native code, no Python frame)"
        if any(mark in leaf for mark in idle_lines):
            idle += count
            continue
        threads["event loop (main thread)" if "MainThread" in thread else "aiosqlite worker thread" if "_connection_worker" in thread else thread] += count
        frames = [_frame_name(f) for f in raw_frames] or [leaf]
        own[frames[-1]] += count
        areas[_area(leaf)] += count
        for name in set(frames):
            total[name] += count
        for label, markers in COMPONENTS:
            if any(marker in frame for frame in raw_frames for marker in markers):
                components[label] += count
    busy = samples - idle

    def top(counter: Counter[str], n: int = TOP) -> list[dict[str, Any]]:
        return [{"name": name, "samples": k, "percent": round(100 * k / busy, 1)} for name, k in counter.most_common(n) if busy]

    # Cumulative lists hide the plumbing that is on every stack.
    plumbing = (
        "_run_once", "run_forever", "_run (asyncio", "run_until_complete", "run_app", "main (", "<module>", "run (asyncio",
        "_serve", "_run_module", "_run_code", "Handle._run", "_bootstrap", "Thread.run", "_connection_worker_thread",
        "RequestHandler.start", "RequestHandler._handle_request", "Application._handle", "messages (app.py)",
    )
    interesting = Counter({k: v for k, v in total.items() if not any(p in k for p in plumbing)})
    return {
        "samples": samples,
        "idle_samples": idle,
        "busy_samples": busy,
        "by_thread": top(threads),
        "top_self": top(own),
        "top_cumulative": top(interesting),
        "self_by_library": top(areas),
        "components": top(components, len(COMPONENTS)),
    }


def record(pid: int, seconds: float, load: Callable[[], Any], out_stem: Path) -> dict[str, Any]:
    """Sample `pid` with py-spy while `load()` runs; the analysis, and the load run's figures."""
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    raw = out_stem.with_suffix(".txt")
    spy = subprocess.Popen(
        [pyspy_binary(), "record", "--pid", str(pid), "--rate", "250", "--duration", str(int(seconds) + 2),
         "--format", "raw", "--output", str(raw), "--threads"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # py-spy attaches
    figures = load()
    try:
        _, error = spy.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, error = spy.communicate()
    if spy.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {error.decode(errors='replace')[-1000:]}")
    analysis = analyse(raw)
    packed = raw.with_suffix(".txt.gz")
    with raw.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    raw.unlink()
    analysis["raw"] = str(packed.relative_to(ROOT)) if packed.is_relative_to(ROOT) else str(packed)
    analysis["run"] = figures.as_dict()
    return analysis


def write_markdown(report: dict[str, Any], path: Path) -> Path:
    from bench.report import profile_section

    path.write_text(profile_section(report) + "\n")
    return path
