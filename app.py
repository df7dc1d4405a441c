"""Composition root: builds the aiohttp application from settings (the command line is bot/cli.py)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.charts import render_phase_chart
from bot.clock import SystemClock
from bot.domain.ports import Clock
from bot.config import Settings
from bot.chat.context import Chat
from bot.chat.conversation import Conversation
from bot.domain.parsing import load_vocabulary
from bot.domain.prefill import Prefiller
from bot.observability.metrics import Metrics
from bot.observability.uow import observed
from bot.scheduler import Scheduler, run_scheduler
from bot.domain.results import Applied, Refused
from bot.handover import handover_pack
from bot.links import SignedLinks
from bot.services.charts import chart_to_draw
from bot.services.handover import handover_contents
from bot.teams.adapter import HypercareAdapter
from bot.teams.auth import (
    AppCredentialsTokenProvider,
    Authenticator,
    BotFrameworkAuthenticator,
    LocalModeAuthenticator,
    OpenIdKeys,
)
from bot.teams.connector import ConnectorClient, NoToken, RetryPolicy, TokenProvider
from bot.teams.endpoint import MessagesEndpoint
from bot.teams.handler import HypercareActivityHandler
from bot.teams.sender import ConnectorSender
from storage import migrate
from storage.db import create_engine, create_session_factory, ping
from storage.errors import database_unavailable
from storage.uow import UnitOfWorkFactory

log = logging.getLogger("hypercare")

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
ENGINE = web.AppKey("engine", AsyncEngine)
UOW_FACTORY = web.AppKey("uow_factory", UnitOfWorkFactory)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
CONNECTOR = web.AppKey("connector", ConnectorClient)
MESSAGES = web.AppKey("messages", MessagesEndpoint)
ADAPTER = web.AppKey("adapter", HypercareAdapter)
SCHEDULER = web.AppKey("scheduler", Scheduler)
TOKENS = web.AppKey("tokens", TokenProvider)
LINKS = web.AppKey("links", SignedLinks)
METRICS = web.AppKey("metrics", Metrics)


def _authenticator(settings: Settings, session: aiohttp.ClientSession, clock: Clock) -> Authenticator:
    if settings.local_mode:
        return LocalModeAuthenticator()
    keys = OpenIdKeys(session, settings.openid_metadata_url, clock=clock)
    return BotFrameworkAuthenticator(app_id=settings.microsoft_app_id, keys=keys, clock=clock, issuers=settings.token_issuers)


def token_provider(settings: Settings) -> TokenProvider:
    if settings.local_mode:
        return NoToken()
    return AppCredentialsTokenProvider(
        settings.microsoft_app_id,
        settings.microsoft_app_password.get_secret_value(),
        settings.microsoft_app_tenant_id,
        managed_identity=settings.microsoft_app_type == "UserAssignedMSI",
    )


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database_url)
    if not await migrate.is_current(engine):
        await engine.dispose()
        raise ConfigurationError("the database schema is not the latest: run `hypercare migrate` first")
    app[ENGINE] = engine
    app[UOW_FACTORY] = UnitOfWorkFactory(create_session_factory(engine))
    yield
    await engine.dispose()


async def _connector(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # One keep-alive session for every Bot Connector call (botbuilder opens a connection per reply).
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.connector_timeout_seconds))
    app[HTTP_SESSION] = session
    app[CONNECTOR] = ConnectorClient(
        session,
        tokens=app[TOKENS],
        retry=RetryPolicy(max_attempts=settings.connector_max_attempts, base_delay=settings.connector_retry_base_seconds),
        trusted_hosts=settings.trusted_service_hosts,
        metrics=app[METRICS],
    )
    yield
    await session.close()


async def _bot(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    links = app[LINKS]
    # The issue form's prefill, read once per process: the vocabulary and the model's weights (docs/parser.md:
    # about 0.3 s on start-up; a second app in the same process reuses the shipped weights).
    started = time.perf_counter()
    prefiller = Prefiller(load_vocabulary(settings.vocabulary_path))
    log.info("prefill model loaded in %.2f s", time.perf_counter() - started)
    conversation = Conversation(
        Chat(
            chart_url_for=links.chart_url,
            handover_url_for=lambda war_room_id, now: links.handover_url(war_room_id, now=now),
            uow_factory=observed(app[UOW_FACTORY], app[METRICS]),
            clock=app[CLOCK],
            prefiller=prefiller,
            admins=settings.admins,
            on_draft=app[METRICS].draft_parsed,
        )
    )
    adapter = HypercareAdapter(
        connector=app[CONNECTOR], authenticator=_authenticator(settings, app[HTTP_SESSION], app[CLOCK])
    )
    app[ADAPTER] = adapter
    app[MESSAGES] = MessagesEndpoint(
        settings=settings,
        adapter=adapter,
        bot=HypercareActivityHandler(conversation, adapter, app[CONNECTOR]),
        unavailable=database_unavailable,
        metrics=app[METRICS],
    )
    yield
    await adapter.drain()


def build_scheduler(
    settings: Settings,
    uow_factory: UnitOfWorkFactory,
    session: aiohttp.ClientSession,
    tokens: TokenProvider,
    links: SignedLinks,
    metrics: Metrics,
) -> Scheduler:
    # One attempt per send: a failed message goes back to the outbox, which retries it later
    # without holding up the other conversations.
    once = ConnectorClient(
        session, tokens=tokens, retry=RetryPolicy(max_attempts=1), trusted_hosts=settings.trusted_service_hosts, metrics=metrics
    )
    return Scheduler(
        uow_factory=uow_factory,
        sender=ConnectorSender(once),
        dedupe_retention=settings.dedupe_retention,
        chart_url=links.chart_url,
        transient=database_unavailable,
        metrics=metrics,
    )


async def _scheduler(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[SCHEDULER] = scheduler = build_scheduler(
        settings, app[UOW_FACTORY], app[HTTP_SESSION], app[TOKENS], app[LINKS], app[METRICS]
    )
    if settings.scheduler_interval_seconds <= 0:
        yield
        return
    task = asyncio.create_task(
        run_scheduler(scheduler, app[CLOCK], settings.scheduler_interval_seconds)
    )
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def messages(request: web.Request) -> web.Response:
    return await request.app[MESSAGES].handle(request)


def signed_links(settings: Settings) -> SignedLinks:
    secret = settings.chart_secret.get_secret_value().encode()
    if not secret:
        # Production refuses to start without it (bot/config.py); here links die with the process.
        log.warning("HYPERCARE_CHART_SECRET is not set: chart and hand-over links stop working when this process stops")
        secret = secrets.token_bytes(32)
    return SignedLinks(base_url=settings.base_url, secret=secret)


def _ids(request: web.Request, *names: str) -> list[int]:
    """The numbers a link names; anything else is a link the bot never made."""
    values = [request.match_info[name] for name in names]
    if not all(value.isascii() and value.isdigit() and len(value) <= 18 for value in values):
        raise web.HTTPNotFound()
    return [int(value) for value in values]


async def chart(request: web.Request) -> web.Response:
    """A card's chart, as a PNG, for a signed link, while the war room lives and 90 days after."""
    war_room_id, chart_id = _ids(request, "war_room", "chart")
    if not request.app[LINKS].chart_signed(war_room_id, chart_id, request.match_info["signature"]):
        raise web.HTTPNotFound()
    result = await chart_to_draw(uow=request.app[UOW_FACTORY](), now=request.app[CLOCK].now(), war_room_id=war_room_id, snapshot_id=chart_id)
    if isinstance(result, Refused):
        raise web.HTTPGone(text=result.reason)
    if not isinstance(result, Applied):
        raise web.HTTPNotFound()
    # Drawing takes a hundred milliseconds or more of CPU: not on the event loop.
    png = await asyncio.get_running_loop().run_in_executor(None, render_phase_chart, result.subject)
    # The picture behind a link never changes: clients may keep it.
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


async def handover(request: web.Request) -> web.Response:
    """A war room's hand-over pack, as a ZIP, for a signed link that has not expired."""
    war_room_id, expires = _ids(request, "war_room", "expires")
    now = request.app[CLOCK].now()
    problem = request.app[LINKS].check_handover(war_room_id, expires, request.match_info["signature"], now=now)
    if problem == "expired":
        raise web.HTTPGone(text="this link has expired; press Get the hand-over pack again in Teams")
    if problem:
        raise web.HTTPNotFound()
    contents = await handover_contents(uow=request.app[UOW_FACTORY](), now=now, war_room_id=war_room_id)
    if contents is None:
        raise web.HTTPNotFound()
    # openpyxl and the ZIP are CPU work: not on the event loop.
    pack = await asyncio.get_running_loop().run_in_executor(None, handover_pack, contents)
    name = f"hypercare-handover-{war_room_id}-{now:%Y%m%d}.zip"
    return web.Response(
        body=pack, content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(ping(request.app[ENGINE]), timeout=2.0)
    except Exception as error:  # any failure to reach the database means "not ready"
        log.warning("readiness check failed: %r", error)
        return web.json_response({"status": "not ready", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus' scrape: this process's metrics only (each replica and the worker serve their own)."""
    token = request.app[SETTINGS].metrics_token.get_secret_value()
    if token and not hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        return web.json_response({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})
    body, content_type = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


class ConfigurationError(Exception):
    pass


def _application(settings: Settings, clock: Clock | None, tokens: TokenProvider | None) -> web.Application:
    """What the bot and the worker share: settings, clock, credential, metrics, and the operators' routes."""
    problems = settings.production_problems()
    if problems:
        raise ConfigurationError("refusing to start in production: " + "; ".join(problems))
    # The endpoint reads the body itself with its own limit; this only stops aiohttp refusing first.
    app = web.Application(client_max_size=settings.max_body_bytes * 4)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[TOKENS] = tokens or token_provider(settings)
    app[LINKS] = signed_links(settings)
    # A registry per application: two apps in one process (tests) never share a counter.
    app[METRICS] = Metrics()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if settings.metrics_enabled:
        app.router.add_get("/metrics", metrics)
    return app


def create_app(settings: Settings, *, clock: Clock | None = None, tokens: TokenProvider | None = None) -> web.Application:
    """The bot's web application; `tokens` replaces the MSAL credential for outbound calls (tests)."""
    app = _application(settings, clock, tokens)
    app.cleanup_ctx.extend([_database, _connector, _bot, _scheduler])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/charts/{war_room}/{chart}/{signature}.png", chart)
    app.router.add_get("/handover/{war_room}/{expires}/{signature}.zip", handover)
    return app


def create_worker_app(settings: Settings, *, clock: Clock | None = None, tokens: TokenProvider | None = None) -> web.Application:
    """`hypercare worker`: the scheduler alone (ticking even when the web replicas have theirs off), with
    /healthz, /readyz and /metrics for whoever runs it."""
    interval = settings.scheduler_interval_seconds or 5.0
    app = _application(settings.model_copy(update={"scheduler_interval_seconds": interval}), clock, tokens)
    app.cleanup_ctx.extend([_database, _connector, _scheduler])
    return app
