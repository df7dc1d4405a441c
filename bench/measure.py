"""Small measuring tools: wrk's output, /proc figures of a process and of the machine, medians."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WRK_SCRIPT = Path(__file__).parent / "wrk" / "activities.lua"

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


@dataclass
class WrkResult:
    connections: int
    seconds: float
    requests: int = 0
    rps: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)  # "50", "75", "90", "99"
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)  # connect, read, write, timeout
    wrk_cpu_seconds: float = 0.0
    # Answers whose body was checked (activities.lua, given what to expect), and those that were as expected.
    answers_checked: int | None = None
    answers_as_expected: int | None = None
    raw: str = ""

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("raw")
        data["errors"] = self.errors
        return data


def parse_wrk(text: str, connections: int) -> WrkResult:
    result = WrkResult(connections=connections, seconds=0.0, raw=text)
    for percentile, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", text, re.MULTILINE):
        result.latency_ms[percentile] = _to_ms(value)
    if match := re.search(r"(\d+) requests in ([\d.]+\w+),", text):
        result.requests = int(match.group(1))
        result.seconds = _to_ms(match.group(2)) / 1000
    if match := re.search(r"Requests/sec:\s+([\d.]+)", text):
        result.rps = float(match.group(1))
    if result.requests == 0:
        result.latency_ms = {}  # wrk prints 0.00us percentiles when nothing completed
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        result.non_2xx = int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        result.socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, match.groups())))
    if match := re.search(r"Answers checked: (\d+), as expected: (\d+)", text):
        result.answers_checked, result.answers_as_expected = int(match.group(1)), int(match.group(2))
    return result


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (make bench does it)")
    return found


def run_wrk(
    url: str, template: Path, *, first_id: int, first_issue: int = 0, issue_span: int = 0, expect: tuple[str, str] | None = None,
    connections: int, seconds: float, timeout_s: int = 10,
) -> WrkResult:
    """One bounded wrk run: one thread (one Lua state: a global, never repeating counter), --latency. `issue_span`: cycle
    through that many issues from `first_issue`; `expect`: (text every answer contains, text none contains, or "")."""
    command = [
        wrk_binary(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", f"--timeout={timeout_s}s", "--latency",
        "-s", str(WRK_SCRIPT), url, "--", str(template), str(first_id), str(first_issue), str(issue_span), *(expect or ()),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip() or completed.stdout.strip()}")
    result = parse_wrk(completed.stdout, connections)
    result.wrk_cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (every thread), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu_seconds() -> float:
    """utime + stime of every live `postgres` process on the machine (the server's backends and helpers).

    Backends that exit during a run take their CPU with them, and other users of the same server count
    too: a rough figure, for the PostgreSQL rows only."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name, _, rest = text.partition("(")[2].rpartition(")")
        if name != "postgres":
            continue
        fields = rest.split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def process_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def load_average() -> float:
    with open("/proc/loadavg") as loadavg:
        return float(loadavg.read().split()[0])


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def post_json(url: str, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
