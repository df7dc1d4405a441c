"""The bot as a real process: `hypercare serve` / `hypercare migrate`, its log file, kill -9, RSS."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.activities import ADMIN, SECOND_TENANT, TENANT

# Lines that must never appear in a healthy bot's log.
ERROR_LINE = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) |Traceback \(most recent call last\)")


def hypercare_command() -> list[str]:
    """The `hypercare` console script of this interpreter's environment (or `python -m bot.cli`)."""
    script = Path(sys.executable).with_name("hypercare")
    if script.exists():
        return [str(script)]
    found = shutil.which("hypercare")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(**overrides: str) -> dict[str, str]:
    """The test's environment without any bot configuration a developer may have exported."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HYPERCARE_", "Microsoft", "MICROSOFT"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def bot_environment(database_url: str, *, scheduler_interval: float, **extra: str) -> dict[str, str]:
    return clean_environment(
        HYPERCARE_DATABASE_URL=database_url,
        HYPERCARE_ALLOWED_TENANTS=f"{TENANT},{SECOND_TENANT}",
        HYPERCARE_ADMINS=ADMIN["aadObjectId"],
        HYPERCARE_SCHEDULER_INTERVAL_SECONDS=str(scheduler_interval),
        HYPERCARE_CONNECTOR_RETRY_BASE_SECONDS="0.05",
        HYPERCARE_LOG_LEVEL="INFO",
        HYPERCARE_CHART_SECRET="resilience-tests",
        **extra,
    )


def run_migrate(database_url: str, workdir: Path, log: Path) -> None:
    """`hypercare migrate`, as an operator runs it (blocking; call it in a thread from async code)."""
    with open(log, "ab") as out:
        result = subprocess.run(
            [*hypercare_command(), "migrate"], cwd=workdir, env=clean_environment(HYPERCARE_DATABASE_URL=database_url),
            stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False,
        )
    if result.returncode != 0:
        raise AssertionError(f"hypercare migrate failed ({result.returncode}):\n{log.read_text(errors='replace')[-4000:]}")


@dataclass
class BotProcess:
    """One `hypercare serve` process. `start()` again after `kill()` restarts it on the same port and database."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def error_lines(self) -> list[str]:
        return [line for line in self.log_text().splitlines() if ERROR_LINE.search(line)]

    async def start(self, *, ready_timeout: float = 45.0) -> float:
        """Start and wait until /healthz answers; returns how long that took (seconds)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"==== start #{self.starts} of {self.name} at {time.strftime('%H:%M:%S')} ====\n".encode())
            log.flush()
            # cwd is a scratch directory, so no developer's .env is read.
            self.process = subprocess.Popen(
                [*hypercare_command(), "serve", "--host", self.host, "--port", str(self.port)],
                cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        began = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as client:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"{self.name} exited with {self.process.returncode} while starting:\n{self.log_text()[-4000:]}"
                    )
                try:
                    async with client.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return time.monotonic() - began
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                if time.monotonic() - began > ready_timeout:
                    raise AssertionError(f"{self.name} not answering /healthz after {ready_timeout}s:\n{self.log_text()[-4000:]}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no shutdown handlers, no flushing, connections cut."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit within 15 s; safe to call when already stopped."""
        if self.process is None or self.process.poll() is not None:
            if self.process is not None:
                self.process.wait()
            return
        self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while self.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def rss_bytes(self) -> int:
        """Resident set size from /proc (Linux)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match is not None, status
        return int(match.group(1)) * 1024

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Bots:
    """Makes `hypercare serve` processes (not started yet) and stops them all at the end of the test."""

    def __init__(self, workdir: Path, attach_log: Callable[[Path], None]) -> None:
        self._workdir = workdir
        self._attach_log = attach_log
        self.made: list[BotProcess] = []

    def __call__(self, name: str, database_url: str, *, scheduler_interval: float = 0.2, **env: str) -> BotProcess:
        bot = BotProcess(name=name, env=bot_environment(database_url, scheduler_interval=scheduler_interval, **env), workdir=self._workdir)
        self.made.append(bot)
        self._attach_log(bot.log_path)
        return bot

    async def stop_all(self) -> None:
        """Before the test's database goes away (else the bots log its disappearance)."""
        for bot in self.made:
            await bot.stop()
