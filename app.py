"""Composition root: builds the aiohttp application from settings, and the `hypercare` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import admin
from bot.chart_links import ChartLinks
from bot.charts import render_phase_chart
from bot.phase import phase_figures
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.conversation import Conversation
from bot.domain.parsing import load_vocabulary, parse_issue_draft
from bot.domain.war_room import SETTING_KEYS, WarRoom
from bot.export import export_csv, export_xlsx
from bot.scheduler import Scheduler, run_scheduler
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


def _authenticator(settings: Settings, session: aiohttp.ClientSession, clock: Clock) -> Authenticator:
    if settings.local_mode:
        return LocalModeAuthenticator()
    keys = OpenIdKeys(session, settings.openid_metadata_url, clock=clock)
    return BotFrameworkAuthenticator(app_id=settings.microsoft_app_id, keys=keys, clock=clock, issuers=settings.token_issuers)


def _token_provider(settings: Settings) -> TokenProvider:
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
    )
    yield
    await session.close()


async def _bot(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    links = app[CHART_LINKS]
    conversation = Conversation(
        chart_url=lambda war_room_id, now: links.url(war_room_id, now=now),
        uow_factory=app[UOW_FACTORY],
        clock=app[CLOCK],
        vocabulary=load_vocabulary(settings.vocabulary_path),
        admins=settings.admins,
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
    )
    yield
    await adapter.drain()


def build_scheduler(
    settings: Settings,
    uow_factory: UnitOfWorkFactory,
    session: aiohttp.ClientSession,
    tokens: TokenProvider,
    links: ChartLinks,
) -> Scheduler:
    # One attempt per send: a failed message goes back to the outbox, which retries it later
    # without holding up the other conversations.
    once = ConnectorClient(session, tokens=tokens, retry=RetryPolicy(max_attempts=1), trusted_hosts=settings.trusted_service_hosts)
    return Scheduler(
        uow_factory=uow_factory,
        sender=ConnectorSender(once),
        dedupe_retention=settings.dedupe_retention,
        chart_url=lambda war_room_id, now: links.url(war_room_id, now=now),
        transient=database_unavailable,
    )


async def _scheduler(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[SCHEDULER] = scheduler = build_scheduler(settings, app[UOW_FACTORY], app[HTTP_SESSION], app[TOKENS], app[CHART_LINKS])
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


class ConfigurationError(Exception):
    pass


def create_app(settings: Settings, *, clock: Clock | None = None, tokens: TokenProvider | None = None) -> web.Application:
    """The bot's web application; `tokens` replaces the MSAL credential for outbound calls (tests)."""
    problems = settings.production_problems()
    if problems:
        raise ConfigurationError("refusing to start in production: " + "; ".join(problems))
    # The endpoint reads the body itself with its own limit; this only stops aiohttp refusing first.
    app = web.Application(client_max_size=settings.max_body_bytes * 4)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[TOKENS] = tokens or _token_provider(settings)
    app[CHART_LINKS] = chart_links(settings)
    app.cleanup_ctx.extend([_database, _connector, _bot, _scheduler])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/charts/{war_room}/{expires}/{signature}.png", chart)
    return app


def _serve(settings: Settings, host: str | None, port: int | None) -> int:
    host = host or settings.host
    problem = settings.listen_problem(host)
    if problem:
        log.error("%s", problem)
        return 2
    if not settings.allowed_tenants:
        log.warning("HYPERCARE_ALLOWED_TENANTS is empty: activities from ANY tenant are accepted")
    if settings.local_mode:
        log.warning("MicrosoftAppId is not set: local mode, inbound requests are not authenticated")
        if settings.allow_unauthenticated:
            log.warning(
                "UNAUTHENTICATED on %s (HYPERCARE_ALLOW_UNAUTHENTICATED=true): anyone who reaches this port can act as "
                "any Teams user and make the bot send requests to any serviceUrl",
                host or "every interface",
            )
    try:
        app = create_app(settings)
    except ConfigurationError as error:
        log.error("%s", error)
        return 2
    log.info("serving the bot on http://%s:%s/api/messages", host, port or settings.port)
    try:
        web.run_app(app, host=host, port=port or settings.port, print=None)
    except ConfigurationError as error:
        log.error("%s", error)
        return 2
    return 0


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def _worker(settings: Settings) -> None:
    """The scheduler alone, for deployments that run web and worker as separate processes."""
    problems = settings.production_problems()
    if problems:
        raise ConfigurationError("refusing to start in production: " + "; ".join(problems))
    engine = create_engine(settings.database_url)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.connector_timeout_seconds)) as session:
            scheduler = build_scheduler(
                settings, UnitOfWorkFactory(create_session_factory(engine)), session, _token_provider(settings), chart_links(settings)
            )
            await run_scheduler(scheduler, SystemClock(), settings.scheduler_interval_seconds or 5.0)
    finally:
        await engine.dispose()


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
    """The command-line subcommands that read or change the database."""
    engine = create_engine(settings.database_url)
    uow = UnitOfWorkFactory(create_session_factory(engine))
    now = SystemClock().now()
    try:
        if args.command == "war-rooms":
            for room, open_count in await admin.war_rooms(uow()):
                print(f"{room.id}\t{room.key}\t{room.display_name}\t{open_count} open")
            return 0
        if args.command == "outbox":
            for entry in await admin.outbox(uow(), status="failed" if args.failed else "pending"):
                print(f"{entry.id}\t{entry.dedupe_key}\t{entry.conversation_id}\t{entry.attempts} attempts\t{entry.last_error or ''}")
            return 0
        room = await admin.find_war_room(uow(), args.war_room)
        if room is None:
            print(f"no war room {args.war_room!r}; `hypercare war-rooms` lists them", file=sys.stderr)
            return 2
        if args.command == "export":
            return await _export(uow, room, now, args.format, args.out)
        if args.command == "standup":
            if args.print:
                print(await admin.print_standup(uow(), room, now=now))
            elif not await admin.post_standup_now(uow(), room, now=now):
                print("this war room has no channel to post in yet", file=sys.stderr)
                return 2
            return 0
        if room.settings_problems:
            print("the stored settings hold values today's rules refuse; defaults stand in (and are stored with any --set):",
                  *room.settings_problems, sep="\n  ", file=sys.stderr)
        try:
            current = await admin.change_settings(uow(), room, args.set or [], now=now) if args.set else room.settings
        except ValueError as error:
            print(f"settings not changed: {error}", file=sys.stderr)
            return 2
        print(json.dumps(current.model_dump(mode="json"), indent=2))
        return 0
    finally:
        await engine.dispose()


async def _export(uow: UnitOfWorkFactory, room: WarRoom, now: datetime, kind: str, out: str | None) -> int:
    figures = await phase_figures(uow=uow(), now=now, war_room_id=room.id)
    assert figures is not None
    async with uow() as unit:
        events = await unit.events.by_issue(room.id)
    target = out or f"hypercare-{room.id}-{now:%Y%m%d}.{'zip' if kind == 'csv' else 'xlsx'}"
    writer = export_csv if kind == "csv" else export_xlsx
    try:
        path = writer(list(figures.issues), events, figures.metrics, target)
    except ValueError as error:
        print(f"export failed: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({len(figures.issues)} issues)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hypercare", description="Hypercare war-room bot for Microsoft Teams")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the bot's web server (with the scheduler inside)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    commands.add_parser("worker", help="run only the scheduler: reminders, escalations, stand-ups, the outbox")
    commands.add_parser("migrate", help="upgrade the database to the latest schema")
    parse = commands.add_parser("parse", help="show the issue draft the bot reads from TEXT, as JSON")
    parse.add_argument("text", nargs="+")
    commands.add_parser("war-rooms", help="list the war rooms (id, key, name, open issues)")
    standup = commands.add_parser("standup", help="the stand-up of a war room: --print it, or post one now")
    standup.add_argument("--war-room", required=True, help="id or key, see `hypercare war-rooms`")
    standup.add_argument("--print", action="store_true", help="print it as text instead of posting it")
    outbox_command = commands.add_parser("outbox", help="list queued messages (--failed: those given up on)")
    outbox_command.add_argument("--failed", action="store_true")
    settings_command = commands.add_parser("settings", help="show or change a war room's settings")
    settings_command.add_argument("--war-room", required=True, help="id or key, see `hypercare war-rooms`")
    settings_command.add_argument("--set", action="append", metavar="KEY=VALUE", help=", ".join(SETTING_KEYS))
    export = commands.add_parser("export", help="the issue log, events and metrics of a war room, as CSV (zip) or XLSX")
    export.add_argument("--war-room", required=True, help="id or key, see `hypercare war-rooms`")
    export.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    export.add_argument("--out", help="FILE.zip for csv, FILE.xlsx for xlsx")
    commands.add_parser("manifest", help="build or check the Teams app package (see `hypercare manifest --help`)", add_help=False)
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["manifest"]:
        # The package builder has its own command line (build, check); imported only here (jsonschema is heavy).
        from manifest.build import main as manifest_main

        return manifest_main(arguments[1:])
    args = parser.parse_args(arguments)

    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "worker":
        try:
            asyncio.run(_worker(settings))
        except ConfigurationError as error:
            log.error("%s", error)
            return 2
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
        print(f"database at the latest schema: {settings.database_url.split('@')[-1]}")
    elif args.command == "parse":
        draft = parse_issue_draft(" ".join(args.text), load_vocabulary(settings.vocabulary_path))
        json.dump(draft.model_dump(mode="json"), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        return asyncio.run(_admin(settings, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
