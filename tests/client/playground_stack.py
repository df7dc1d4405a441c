"""The bot and Microsoft 365 Agents Playground, started together on loopback.

Used two ways:

* by `playground_driver.py` (the end-to-end suite), inside a network namespace that has only loopback;
* by `make playground` (`python -m tests.client.playground_stack`), for a person to chat with the bot in a
  browser at http://127.0.0.1:56150 without any Microsoft account. Ctrl-C stops both.

Who the Playground's user is (their Entra object id, which `HYPERCARE_ADMINS` must name so that they may
hand themselves roles) is read from an activity the Playground sends: before the bot starts, a tiny
stand-in answers on the bot's port, the Playground is asked to send an `installationUpdate` (its own
"install" custom activity, invisible in the chat), and `from.aadObjectId` is taken from it. The stand-in
then makes way for the real bot. This also keeps the Playground's start-up check of the bot endpoint
from failing (it waits up to 15 s for the endpoint and logs a warning when nothing answers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_BIN = ROOT / "node_modules" / ".bin" / "agentsplayground"
PLAYGROUND_VERSION = "0.2.28"  # the REST/websocket endpoints used here are internal to this version
HYPERCARE_BIN = Path(sys.executable).with_name("hypercare")
HOST = "127.0.0.1"
PLAYGROUND_PORT = 56150
BOT_PORT = 3978


def playground_url(port: int = PLAYGROUND_PORT) -> str:
    return f"http://{HOST}:{port}"


def bot_endpoint(port: int = BOT_PORT) -> str:
    return f"http://{HOST}:{port}/api/messages"


def missing_prerequisites() -> list[str]:
    """What is missing to run the Playground here (empty when everything is in place)."""
    missing = []
    package = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "package.json"
    if not PLAYGROUND_BIN.exists() or not package.is_file():
        missing.append("node_modules/.bin/agentsplayground not found (`npm ci`)")
    else:
        version = json.loads(package.read_text()).get("version")
        if version != PLAYGROUND_VERSION:
            missing.append(f"@microsoft/m365agentsplayground is {version}, not the pinned {PLAYGROUND_VERSION} (`npm ci`)")
    if not HYPERCARE_BIN.exists():
        missing.append(f"{HYPERCARE_BIN} not found (`pip install -e '.[dev]'`)")
    return missing


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    # The Playground binds every interface: a port taken on another address would also make it move.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class PlaygroundUser:
    id: str
    name: str | None
    aad_object_id: str


def start_playground(
    workdir: Path, *, port: int = PLAYGROUND_PORT, recording: Path | None = None, own_group: bool = False
) -> subprocess.Popen[bytes]:
    """The Playground, pointed at the bot's endpoint; its output goes to workdir/playground.out.

    It writes its own debug log to `devTools/m365agentsplayground.log` in its working directory, and,
    with `recording`, every request between it and the bot (with the status answered) to that file.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none"}
    args = [str(PLAYGROUND_BIN), "-e", bot_endpoint(), "-c", "msteams", "-p", str(port), "--disable-telemetry"]
    if recording is not None:
        env["M365_AGENTS_PLAYGROUND_RECORDING_FILE"] = str(recording)
        args.append("--enable-events-recording")
    out = open(workdir / "playground.out", "wb")
    try:
        return subprocess.Popen(
            args, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=own_group
        )
    finally:
        out.close()


def bot_environment(database_url: str, admins: str, *, scheduler_interval: str | None = None, hermetic: bool = False) -> dict[str, str]:
    """The bot's environment; `hermetic` drops the bot's settings inherited from this shell (tests)."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not (hermetic and (key.upper().startswith("HYPERCARE_") or key.upper().startswith("MICROSOFTAPP")))
    }
    env = {**inherited, "HYPERCARE_DATABASE_URL": database_url, "HYPERCARE_ADMINS": admins}
    # Chart and hand-over links signed with a key of this stack's own, as a deployment would (and without the
    # warning a process that makes up its key logs).
    env.setdefault("HYPERCARE_CHART_SECRET", secrets.token_hex(32))
    if scheduler_interval is not None:
        env["HYPERCARE_SCHEDULER_INTERVAL_SECONDS"] = scheduler_interval
    return env


def migrate(env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run([str(HYPERCARE_BIN), "migrate"], env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"hypercare migrate failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def start_bot(env: dict[str, str], cwd: Path, *, log: Path | None = None, own_group: bool = False) -> subprocess.Popen[bytes]:
    """`hypercare serve` on 127.0.0.1:3978; its log (stderr: access log, warnings, errors) to `log` if given.

    `own_group`: out of the terminal's process group, so that Ctrl-C reaches only whoever started it,
    who then stops it with one signal (a second signal in the middle of the bot's graceful shutdown
    interrupts it).
    """
    args = [str(HYPERCARE_BIN), "serve", "--host", HOST, "--port", str(BOT_PORT)]
    if log is None:
        return subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, start_new_session=own_group)
    out = open(log, "wb")
    try:
        return subprocess.Popen(
            args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=own_group
        )
    finally:
        out.close()


async def wait_until(check: Any, what: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await check():
                return
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def wait_for_playground(session: aiohttp.ClientSession, process: subprocess.Popen[bytes], port: int = PLAYGROUND_PORT) -> None:
    async def ping() -> bool:
        async with session.get(f"{playground_url(port)}/_debug/ping") as response:
            return (await response.text()).strip() == "pong"

    await wait_until(ping, "Agents Playground", 30, process)


async def wait_for_bot(session: aiohttp.ClientSession, process: subprocess.Popen[bytes]) -> None:
    async def healthy() -> bool:
        async with session.get(f"http://{HOST}:{BOT_PORT}/healthz") as response:
            return response.status == 200

    await wait_until(healthy, "the bot", 30, process)


class StandIn:
    """Answers on the bot's port until the bot starts, and keeps what the Playground sends."""

    def __init__(self) -> None:
        self.activities: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            self.activities.append(await request.json())
            self.arrived.set()
        except (ValueError, UnicodeDecodeError):
            pass
        return web.json_response({})

    async def _head(self, request: web.Request) -> web.Response:
        return web.Response()

    async def __aenter__(self) -> StandIn:
        app = web.Application()
        app.router.add_post("/api/messages", self._messages)
        app.router.add_route("HEAD", "/api/messages", self._head)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, BOT_PORT).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def discover_user(session: aiohttp.ClientSession, stand_in: StandIn, port: int = PLAYGROUND_PORT) -> tuple[PlaygroundUser, dict[str, Any]]:
    """The Playground's user, from the `installationUpdate` it sends, and the Playground's configuration."""
    base = playground_url(port)
    async with session.get(f"{base}/_internal/v1/config") as response:
        config: dict[str, Any] = await response.json()
    personal = config["config"]["personalChat"]["id"]
    async with session.get(f"{base}/_internal/v1/customActivities/template", params={"conversationId": personal, "type": "install"}) as response:
        response.raise_for_status()
        template = await response.json()
    async with session.post(f"{base}/_internal/v1/customActivities", json=template) as response:
        response.raise_for_status()
    await asyncio.wait_for(stand_in.arrived.wait(), timeout=10)
    sender = stand_in.activities[0].get("from") or {}
    aad = sender.get("aadObjectId")
    if not isinstance(aad, str) or not aad:
        raise RuntimeError(f"the Playground's activity carries no from.aadObjectId: {json.dumps(stand_in.activities[0])[:500]}")
    # The install activity carries no name; the Playground's configuration says who that id is.
    current = config.get("config", {}).get("currentUser", {})
    name = sender.get("name") or (current.get("name") if current.get("id") == sender.get("id") else None)
    return PlaygroundUser(id=str(sender.get("id")), name=name, aad_object_id=aad), config


def stop(*processes: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM (then SIGKILL) each process started here, by its own pid."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- make playground -------------------------------------------------------------------------


async def _serve_for_a_person(workdir: Path, database_url: str) -> int:
    for port, what in ((PLAYGROUND_PORT, "the Agents Playground"), (BOT_PORT, "the bot")):
        if not port_is_free(port):
            print(f"Port {port} is in use; {what} needs it. Stop whatever listens there (`make run`?) and try again.", file=sys.stderr)
            return 2
    playground: subprocess.Popen[bytes] | None = None
    bot: subprocess.Popen[bytes] | None = None
    try:
        async with aiohttp.ClientSession() as session:
            async with StandIn() as stand_in:
                playground = start_playground(workdir, own_group=True)
                await wait_for_playground(session, playground)
                user, _ = await discover_user(session, stand_in)
            env = bot_environment(database_url, user.aad_object_id)
            migrate(env, ROOT)
            bot = start_bot(env, ROOT, own_group=True)  # its log goes to this terminal
            await wait_for_bot(session, bot)
        print(
            f"\n  The bot and Microsoft 365 Agents Playground are running (database {database_url}).\n"
            f"  Open {playground_url()} in a browser. You are {user.name or user.id} "
            f"(Entra object id {user.aad_object_id}, an admin here):\n"
            "  `roles add me oncall` and `roles add me triage_lead` let you triage.\n"
            "  Personal Chat, Group Chat and the team channel \"My Team - General\" are there; in the last two,\n"
            "  @mention the bot (type @Test and pick Test Bot). Ctrl-C stops both.\n"
            f"  The Playground's own log: {workdir}\n",
            flush=True,
        )
        interrupted = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, interrupted.set)
        while True:
            try:
                await asyncio.wait_for(interrupted.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
            if interrupted.is_set():
                print("\nstopping the bot and the Playground…", file=sys.stderr, flush=True)
                return 0
            for process, what in ((playground, "the Playground"), (bot, "the bot")):
                assert process is not None
                if process.poll() is not None:
                    print(f"{what} exited ({process.returncode}); stopping.", file=sys.stderr)
                    return 1
    finally:
        stop(*(p for p in (bot, playground) if p is not None))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the bot with Microsoft 365 Agents Playground for a person to try it.")
    parser.add_argument("--database-url", default=os.environ.get("HYPERCARE_DATABASE_URL", "sqlite+aiosqlite:///./hypercare.db"))
    parser.add_argument("--workdir", help="where the Playground keeps its own log (default: a new temporary folder)")
    args = parser.parse_args(argv)
    missing = missing_prerequisites()
    if missing:
        print("cannot start the Playground: " + "; ".join(missing), file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="hypercare-playground-"))
    try:
        return asyncio.run(_serve_for_a_person(workdir, args.database_url))
    except KeyboardInterrupt:
        print("\nstopped.", file=sys.stderr)
        return 0


if __name__ == "__main__":
    sys.exit(main())
