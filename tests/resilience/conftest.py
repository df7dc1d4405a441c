"""Resilience tests: the bot as real processes on real ports, real databases, a fake Bot Connector in this process.

Every process a test starts is registered with `bots`, stopped afterwards, and its log is attached to the test's
report when the test fails. Measured figures (`figures`) are attached to every report and printed at the end of
the run.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.resilience.connector import RecordingConnector
from tests.resilience.processes import Bots

LOG_TAIL_LINES = 300
_FIGURES_KEY = pytest.StashKey[dict[str, Any]]()
_LOGS_KEY = pytest.StashKey[list[Path]]()
_collected: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """What the test measured (timings, counts, latencies); reported whether it passes or fails."""
    values: dict[str, Any] = {}
    request.node.stash[_FIGURES_KEY] = values
    return values


@pytest.fixture
def attach_log(request: pytest.FixtureRequest) -> Callable[[Path], None]:
    """Register another log file (a PostgreSQL server's, a migration's) to attach on failure."""
    logs = request.node.stash.setdefault(_LOGS_KEY, [])
    return logs.append


@pytest.fixture
async def connector() -> AsyncIterator[RecordingConnector]:
    fake = RecordingConnector()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bots(tmp_path: Path, attach_log: Callable[[Path], None]) -> AsyncIterator[Bots]:
    made = Bots(tmp_path / "bots", attach_log)
    yield made
    await made.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when != "call" and not (report.failed and report.when == "setup"):
        return report
    values = item.stash.get(_FIGURES_KEY, None)
    if values:
        report.sections.append(("measured figures", json.dumps(values, indent=2, default=str)))
        if report.when == "call":
            _collected.append((item.nodeid, values))
    if report.failed:
        for log in item.stash.get(_LOGS_KEY, []):
            if log.exists():
                # The access log drowns the rest: attach everything else (warnings, errors, tracebacks).
                lines = [line for line in log.read_text(errors="replace").splitlines() if " aiohttp.access: " not in line]
                title = f"log {log.name} without access lines (last {LOG_TAIL_LINES} of {len(lines)}; whole file: {log})"
                report.sections.append((title, "\n".join(lines[-LOG_TAIL_LINES:])))
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _collected:
        return
    terminalreporter.section("resilience: measured figures")
    for nodeid, values in _collected:
        terminalreporter.write_line(f"{nodeid}: {json.dumps(values, default=str)}")
