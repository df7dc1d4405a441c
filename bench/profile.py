"""py-spy on the running bot during one load run: where the CPU time goes, self and cumulative.

    .venv/bin/pip install py-spy           # once (or PYSPY=/path/to/py-spy)
    .venv/bin/python -m bench.run --profile

py-spy samples the server from outside (ptrace), so the server runs unmodified. Raw collapsed stacks
(flamegraph.pl / speedscope can read them) go to bench/results/profiles/, the top items per scenario to
bench/results/profile.json and profile.md.
"""

from __future__ import annotations

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


def _area(frame: str) -> str:
    """Which library or part of the product a frame belongs to."""
    where = frame.partition(" (")[2]
    for marker, label in (
        ("botbuilder/", "botbuilder"), ("msrest/", "msrest"), ("botframework/", "botframework-connector"),
        ("sqlalchemy/", "SQLAlchemy"), ("aiosqlite/", "aiosqlite"), ("asyncpg/", "asyncpg"), ("pydantic", "pydantic"),
        ("aiohttp/", "aiohttp"), ("multidict/", "aiohttp"), ("yarl/", "aiohttp"), ("logging/", "logging"),
        ("asyncio/", "asyncio"), ("json/", "json"), ("html/", "html.parser"), ("/bot/teams/", "bot/teams"),
        ("/bot/domain/", "bot/domain"), ("/bot/", "bot"), ("/cards/", "cards"), ("/storage/", "storage"),
    ):
        if marker in where:
            return label
    return "other"


def analyse(raw: Path) -> dict[str, Any]:
    """Self and cumulative samples per function (and self per library) from py-spy's raw collapsed stacks."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        areas[_area(stack.split(";")[-1])] += count
        for name in set(frames):
            total[name] += count

    def top(counter: Counter[str]) -> list[dict[str, Any]]:
        return [{"name": name, "samples": n, "percent": round(100 * n / samples, 1)} for name, n in counter.most_common(TOP)]

    # Cumulative lists hide the event loop's plumbing that is on every stack.
    plumbing = ("_run_once", "run_forever", "_run (asyncio", "run_until_complete", "run_app", "main (", "<module>", "run (asyncio", "_serve", "_run_module", "_run_code")
    interesting = Counter({k: v for k, v in total.items() if not any(p in k for p in plumbing)})
    return {"samples": samples, "top_self": top(own), "top_cumulative": top(interesting), "self_by_library": top(areas)}


def record(pid: int, seconds: float, load: Callable[[], Any], out_stem: Path) -> dict[str, Any]:
    """Sample `pid` with py-spy while `load()` runs; the analysis, and the load run's figures."""
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    raw = out_stem.with_suffix(".txt")
    spy = subprocess.Popen(
        [pyspy_binary(), "record", "--pid", str(pid), "--rate", "250", "--duration", str(int(seconds) + 2),
         "--format", "raw", "--output", str(raw), "--nonblocking"],
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
    analysis["raw"] = str(raw.relative_to(ROOT)) if raw.is_relative_to(ROOT) else str(raw)
    analysis["run"] = figures.as_dict()
    return analysis


def write_markdown(report: dict[str, Any], path: Path) -> Path:
    from bench.report import profile_section

    path.write_text(profile_section(report) + "\n")
    return path
