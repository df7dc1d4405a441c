"""Composition root: builds the aiohttp application from settings (the command line is bot/cli.py)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.chart_links import ChartLinks
from bot.charts import render_phase_chart
from bot.clock import SystemClock
from bot.domain.ports import Clock
from bot.config import Settings
from bot.chat.context import Chat
from bot.chat.conversation import Conversation
from bot.domain.parsing import load_vocabulary
from bot.observability.metrics import Metrics
from bot.observability.uow import observed
from bot.scheduler import Scheduler, run_scheduler
from bot.services.phase import phase_figures
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
CHART_LINKS = web.AppKey("chart_links", ChartLinks)
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
    links = app[CHART_LINKS]
    conversation = Conversation(
        Chat(
            chart_url_for=lambda war_room_id, now: links.url(war_room_id, now=now),
            uow_factory=observed(app[UOW_FACTORY], app[METRICS]),
            clock=app[CLOCK],
            vocabulary=load_vocabulary(settings.vocabulary_path),
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
    links: ChartLinks,
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
        chart_url=lambda war_room_id, now: links.url(war_room_id, now=now),
        transient=database_unavailable,
        metrics=metrics,
    )


async def _scheduler(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[SCHEDULER] = scheduler = build_scheduler(
        settings, app[UOW_FACTORY], app[HTTP_SESSION], app[TOKENS], app[CHART_LINKS], app[METRICS]
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


def chart_links(settings: Settings) -> ChartLinks:
    secret = settings.chart_secret.get_secret_value().encode() or secrets.token_bytes(32)
    return ChartLinks(base_url=settings.base_url, secret=secret)


async def chart(request: web.Request) -> web.Response:
    """The phase chart of a war room, as a PNG, for a signed link that has not expired."""
    try:
        war_room_id, expires = int(request.match_info["war_room"]), int(request.match_info["expires"])
    except ValueError:
        raise web.HTTPNotFound() from None
    now = request.app[CLOCK].now()
    problem = request.app[CHART_LINKS].check(war_room_id, expires, request.match_info["signature"], now=now)
    if problem == "expired":
        raise web.HTTPGone(text="this chart link has expired; ask the bot for `status` again")
    if problem:
        raise web.HTTPNotFound()
    figures = await phase_figures(uow=request.app[UOW_FACTORY](), now=now, war_room_id=war_room_id)
    if figures is None:
        raise web.HTTPNotFound()
    # Drawing takes a few hundred milliseconds of CPU: not on the event loop.
    png = await asyncio.get_running_loop().run_in_executor(None, render_phase_chart, figures.metrics)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=300"})


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
    app[CHART_LINKS] = chart_links(settings)
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
    app.router.add_get("/charts/{war_room}/{expires}/{signature}.png", chart)
    return app


def create_worker_app(settings: Settings, *, clock: Clock | None = None, tokens: TokenProvider | None = None) -> web.Application:
    """`hypercare worker`: the scheduler alone (ticking even when the web replicas have theirs off), with
    /healthz, /readyz and /metrics for whoever runs it."""
    interval = settings.scheduler_interval_seconds or 5.0
    app = _application(settings.model_copy(update={"scheduler_interval_seconds": interval}), clock, tokens)
    app.cleanup_ctx.extend([_database, _connector, _scheduler])
    return app
