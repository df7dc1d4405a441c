"""A private PostgreSQL server for one test: its own cluster in a temporary directory, on its own port, which the
test may stop and start at will. The shared server on 5432 is never touched."""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.resilience.processes import free_port
from tests.support.databases import IN_CI


def postgres_bin_dir() -> Path | None:
    """The newest installed server's binaries (Debian layout), else whatever `pg_ctl` is on PATH."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0)
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


class PostgresCluster:
    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = port
        self.log = root / "postgres.log"
        # As root, the server must run as the `postgres` user (it refuses to run as root).
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root)
        if result.returncode != 0:
            raise AssertionError(f"{shlex.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    async def init(self) -> None:
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        await asyncio.to_thread(
            self._run, "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"
        )

    async def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -h 127.0.0.1 -c fsync=off -c max_connections=50"
        await asyncio.to_thread(self._run, "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    async def stop(self, mode: str = "fast") -> None:
        await asyncio.to_thread(self._run, "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@asynccontextmanager
async def private_cluster(keep_log_as: Path) -> AsyncIterator[PostgresCluster]:
    """initdb + start on a free port; stopped and deleted afterwards, whatever happens (its log copied to `keep_log_as`)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        message = "no PostgreSQL server binaries (initdb, pg_ctl) to start a private cluster with"
        if IN_CI:
            pytest.fail(message + " (CI requires them)")
        pytest.skip(message)
    # Not under pytest's tmp_path: that is private to root (0700) and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="hc-pg-"))
    cluster = PostgresCluster(bin_dir, root, free_port())
    try:
        await cluster.init()
        await cluster.start()
        yield cluster
    finally:
        try:
            if cluster.running():
                await cluster.stop("immediate")
        finally:
            if cluster.log.exists():
                shutil.copyfile(cluster.log, keep_log_as)
            shutil.rmtree(root, ignore_errors=True)
