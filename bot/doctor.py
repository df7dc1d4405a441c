"""`hypercare doctor`: what an operator runs after deploying. One line per check, pass, fail or skip, with a hint for
each failure; the exit code is 1 when anything failed.

It uses the bot's own code for each question (the production rules of `Settings`, the engine and migrations, the
token provider, the OpenID key loader, the manifest builder, the outbox repository), so a pass means the bot
itself would get through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app import token_provider
from bot.clock import SystemClock
from bot.config import Settings
from bot.teams.auth import OpenIdKeys
from bot.teams.connector import TokenProvider
from manifest.build import DEFAULT_DOMAIN, ManifestError, build_package
from storage import migrate
from storage.db import create_engine, create_session_factory, is_sqlite, ping
from storage.uow import UnitOfWorkFactory

# A message waiting longer than this means no scheduler delivers, or Teams has refused it for a while.
OUTBOX_STUCK_AFTER = timedelta(minutes=10)
TIMEOUT_SECONDS = 20.0
DEPLOY_GUIDE = "docs/deploy.md"

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""

    def lines(self) -> list[str]:
        found = [f"{self.status.upper():4}  {self.name:14} {self.detail}"]
        if self.status == "fail" and self.hint:
            found.append(f"{'':20} hint: {self.hint}")
        return found


def _failure(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = text if len(text) <= 300 else text[:300] + "…"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def configuration(settings: Settings) -> Check:
    problems = settings.production_problems()
    listen = settings.listen_problem(settings.host)
    if listen:
        problems.append(listen)
    if problems:
        return Check("configuration", "fail", "; ".join(problems), f"set what is named (the variables: {DEPLOY_GUIDE})")
    notes = [f"{settings.env} mode"]
    if settings.local_mode:
        notes.append("local mode (no MicrosoftAppId): inbound requests are not authenticated")
    if not settings.allowed_tenants:
        notes.append("every tenant is accepted (HYPERCARE_ALLOWED_TENANTS is empty)")
    return Check("configuration", "pass", "; ".join(notes))


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def database(settings: Settings, engine: AsyncEngine) -> list[Check]:
    """Reachable, then migrated to head (two lines: they have different remedies)."""
    url = settings.database_url
    if is_sqlite(url):
        path = make_url(url).database
        # Connecting would create an empty file: say what is missing instead.
        if path and path != ":memory:" and not Path(path).is_file():
            return [Check("database", "fail", f"no SQLite file at {path}", "check HYPERCARE_DATABASE_URL, or create it with `hypercare migrate`")]
    try:
        await asyncio.wait_for(ping(engine), TIMEOUT_SECONDS)
    except Exception as error:  # whatever the driver raises, the answer is "not reachable"
        return [Check("database", "fail", f"cannot reach {_shown(url)}: {_failure(error)}",
                      "check HYPERCARE_DATABASE_URL (host, port, database, user, password) and that the server accepts this host")]
    reached = Check("database", "pass", f"reached {_shown(url)}")
    current, heads = await migrate.revisions(engine)
    if current != heads:
        at = ", ".join(sorted(current)) or "no schema"
        return [reached, Check("schema", "fail", f"not migrated: at {at}, the latest is {', '.join(sorted(heads))}",
                               "run `hypercare migrate` (the bot refuses to start on an older schema)")]
    return [reached, Check("schema", "pass", f"at the latest migration ({', '.join(sorted(heads))})")]


async def credentials(settings: Settings, tokens: TokenProvider) -> Check:
    if settings.local_mode:
        return Check("credentials", "skip", "local mode: no MicrosoftAppId, no token is needed")
    try:
        token = await asyncio.wait_for(tokens.token(), TIMEOUT_SECONDS)
    except Exception as error:  # MSAL raises what it meets; its message names the cause, never the secret
        hint = (
            "MicrosoftAppId must be the client id of a user-assigned managed identity attached to this host "
            "(App Service, Container Apps) and MicrosoftAppTenantId its tenant"
            if settings.microsoft_app_type == "UserAssignedMSI"
            else "check MicrosoftAppId, MicrosoftAppPassword (expired?), MicrosoftAppType and MicrosoftAppTenantId against "
            "the Azure Bot's registration; the bot must reach login.microsoftonline.com"
        )
        return Check("credentials", "fail", f"no token for the Bot Connector: {_failure(error)}", hint)
    if not token:
        return Check("credentials", "fail", "the credential gave an empty token", "check MicrosoftAppType")
    return Check("credentials", "pass", f"obtained a token for the Bot Connector ({settings.microsoft_app_type})")


async def openid(settings: Settings, http: aiohttp.ClientSession) -> Check:
    if settings.local_mode:
        return Check("openid", "skip", "local mode: inbound tokens are not checked")
    keys = OpenIdKeys(http, settings.openid_metadata_url, clock=SystemClock())
    try:
        count = await asyncio.wait_for(keys.load(), TIMEOUT_SECONDS)
    except Exception as error:  # unreachable, not JSON, no jwks_uri: every inbound request would be 401
        return Check("openid", "fail", f"cannot load {settings.openid_metadata_url}: {_failure(error)}",
                     "the bot must reach login.botframework.com over https (proxy, firewall, DNS); "
                     "HYPERCARE_OPENID_METADATA_URL changes only for sovereign clouds")
    if not count:
        return Check("openid", "fail", f"{settings.openid_metadata_url} lists no signing keys", "check HYPERCARE_OPENID_METADATA_URL")
    return Check("openid", "pass", f"{count} signing keys from {settings.openid_metadata_url}")


async def public_url(settings: Settings, http: aiohttp.ClientSession) -> Check:
    url = f"{settings.base_url}/healthz"
    try:
        async with http.get(url, allow_redirects=False) as response:
            body = await response.json(content_type=None) if response.status == 200 else None
            status = response.status
    except Exception as error:  # DNS, TLS, refused, timeout, not JSON
        return Check("public URL", "fail", f"{url} did not answer: {_failure(error)}",
                     "is `hypercare serve` running? Check HYPERCARE_PUBLIC_URL, DNS, the reverse proxy and its certificate")
    if status != 200 or not isinstance(body, dict) or body.get("status") != "alive":
        return Check("public URL", "fail", f"{url} answered {status}, not the bot's health check",
                     "the reverse proxy must pass /healthz and /api/messages to the bot")
    return Check("public URL", "pass", f"{url} answers")


def _domain(settings: Settings) -> str:
    """The bot's host name for the manifest's validDomains (an IP address or loopback is no domain: the default)."""
    host = urlsplit(settings.base_url).hostname or ""
    try:
        ipaddress.ip_address(host)
        return DEFAULT_DOMAIN
    except ValueError:
        return host if "." in host else DEFAULT_DOMAIN


def manifest(settings: Settings) -> Check:
    if settings.local_mode:
        return Check("manifest", "skip", "local mode: the app package needs MicrosoftAppId")
    domain = _domain(settings)
    with tempfile.TemporaryDirectory() as folder:
        try:
            build_package(app_id=settings.microsoft_app_id, out=Path(folder) / "hypercare-app.zip", valid_domain=domain)
        except ManifestError as error:
            return Check("manifest", "fail", "; ".join(error.problems),
                         "MicrosoftAppId must be the Azure Bot's app id (a GUID); build it with `hypercare manifest build`")
    return Check("manifest", "pass", f"the Teams app package builds and validates for {settings.microsoft_app_id} ({domain})")


async def outbox(engine: AsyncEngine, now: datetime) -> Check:
    async with UnitOfWorkFactory(create_session_factory(engine))() as uow:
        stats = await uow.outbox.stats()
    given_up = f"{stats.failed} given up on (`hypercare outbox --failed`)"
    if stats.oldest_pending_at is not None and now - stats.oldest_pending_at > OUTBOX_STUCK_AFTER:
        return Check("outbox", "fail", f"{stats.pending} waiting, the oldest for {_duration(now - stats.oldest_pending_at)}; {given_up}",
                     "a scheduler must run (`hypercare serve` with HYPERCARE_SCHEDULER_INTERVAL_SECONDS > 0, or `hypercare "
                     "worker`), and the Bot Connector answer: `hypercare outbox` shows each message's last error")
    return Check("outbox", "pass", f"{stats.pending} waiting; {given_up}")


def _duration(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{minutes // 60} hours" if minutes < 48 * 60 else f"{minutes // (24 * 60)} days"


async def diagnose(settings: Settings, *, now: datetime, tokens: TokenProvider | None = None) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    checks = [configuration(settings)]
    engine = create_engine(settings.database_url)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as http:
            database_checks = await database(settings, engine)
            checks += database_checks
            checks.append(await credentials(settings, tokens or token_provider(settings)))
            checks.append(await openid(settings, http))
            checks.append(await public_url(settings, http))
            checks.append(manifest(settings))
            if all(check.status == "pass" for check in database_checks):
                checks.append(await outbox(engine, now))
            else:
                checks.append(Check("outbox", "skip", "the database is not ready"))
    finally:
        await engine.dispose()
    return checks


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        for line in Check("configuration", "fail", problems, f"fix the variables named (see {DEPLOY_GUIDE})").lines():
            print(line)
        return 1
    checks = asyncio.run(diagnose(settings, now=SystemClock().now()))
    for check in checks:
        for line in check.lines():
            print(line)
    failed = [check.name for check in checks if check.status == "fail"]
    print(f"{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}" if failed else "all checks passed")
    sys.stdout.flush()
    return 1 if failed else 0
