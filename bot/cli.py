"""The `hypercare` command line: serve, worker, migrate, and the subcommands that read or change the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from aiohttp import web

from app import ConfigurationError, create_app, create_worker_app
from bot.clock import SystemClock
from bot.config import Settings
from bot.domain.parsing import load_vocabulary
from bot.domain.prefill import Prefiller
from bot.domain.prefill_evaluation import LabelledError, evaluate, evaluate_stream, read_labelled
from bot.domain.war_room import SETTING_KEYS, WarRoom
from bot.export import export_csv, export_xlsx
from bot.observability.logs import configure_logging
from bot.scheduler import post_standup_now
from bot.services import admin
from bot.services.handover import handover_contents
from storage import migrate
from storage.db import create_engine, create_session_factory
from storage.uow import UnitOfWorkFactory

log = logging.getLogger("hypercare")


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


def _worker(settings: Settings, host: str | None, port: int | None) -> int:
    """The scheduler alone, for deployments that run web and worker as separate processes; it serves /healthz,
    /readyz and /metrics (nothing else) on HOST:PORT."""
    try:
        app = create_worker_app(settings)
    except ConfigurationError as error:
        log.error("%s", error)
        return 2
    host, port = host or settings.host, port or settings.port
    log.info("scheduler running; /healthz, /readyz and /metrics on http://%s:%s", host, port)
    try:
        web.run_app(app, host=host, port=port, print=None)
    except ConfigurationError as error:
        log.error("%s", error)
        return 2
    return 0


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
            elif not await post_standup_now(uow(), room, now=now):
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
    contents = await handover_contents(uow=uow(), now=now, war_room_id=room.id)
    assert contents is not None
    target = out or f"hypercare-{room.id}-{now:%Y%m%d}.{'zip' if kind == 'csv' else 'xlsx'}"
    writer = export_csv if kind == "csv" else export_xlsx
    try:
        path = writer(list(contents.issues), contents.events_by_issue, contents.metrics, target, runbooks=contents.runbooks)
    except ValueError as error:
        print(f"export failed: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({len(contents.issues)} issues, {len(contents.runbooks)} runbooks)")
    return 0


def _parse(prefiller: Prefiller, args: argparse.Namespace) -> int:
    if not (args.evaluate or args.evaluate_stream):
        prefill = prefiller.prefill(" ".join(args.text))
        shown = prefill.draft.model_dump(mode="json") | {"please_choose": sorted(prefill.unsure)}
        json.dump(shown, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    try:
        rows = read_labelled(args.evaluate or args.evaluate_stream)
    except (OSError, LabelledError) as error:
        print(f"cannot evaluate: {error}", file=sys.stderr)
        return 2
    if args.evaluate:
        print(evaluate(prefiller, rows).text())
        return 0
    stream = evaluate_stream(prefiller, rows)
    print(f"the last {stream.learned.total} of {len(rows)} messages, after {stream.seen} confirmed in this war room:")
    for name in ("severity", "category", "area"):
        print(f"{name:9} learning {stream.learned.fields[name].accuracy:6.1%}   cold model {stream.cold.fields[name].accuracy:6.1%}")
    print(f"Sev 1 recall learning {stream.learned.sev1_recall:6.1%}   cold model {stream.cold.sev1_recall:6.1%}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hypercare", description="Hypercare war-room bot for Microsoft Teams")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the bot's web server (with the scheduler inside)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    worker = commands.add_parser("worker", help="run only the scheduler: reminders, escalations, stand-ups, the outbox")
    worker.add_argument("--host", help="where /healthz, /readyz and /metrics answer (default HYPERCARE_HOST)")
    worker.add_argument("--port", type=int, help="default HYPERCARE_PORT")
    commands.add_parser("doctor", help="check a deployment: configuration, database, credentials, public URL, manifest, outbox")
    commands.add_parser("migrate", help="upgrade the database to the latest schema")
    parse = commands.add_parser("parse", help="show the issue draft the bot reads from TEXT, as JSON; or measure the parser")
    parse_input = parse.add_mutually_exclusive_group(required=True)
    parse_input.add_argument("text", nargs="*", default=[])
    parse_input.add_argument("--evaluate", metavar="FILE.jsonl", type=Path, help="accuracy on labelled messages")
    parse_input.add_argument(
        "--evaluate-stream", metavar="FILE.jsonl", type=Path, help="replay one war room's messages, learning from each"
    )
    commands.add_parser("war-rooms", help="list the war rooms (id, key, name, open issues)")
    standup = commands.add_parser("standup", help="the stand-up of a war room: --print it, or post one now")
    standup.add_argument("--war-room", required=True, help="id or key, see `hypercare war-rooms`")
    standup.add_argument("--print", action="store_true", help="print it as text instead of posting it")
    outbox_command = commands.add_parser("outbox", help="list queued messages (--failed: those given up on)")
    outbox_command.add_argument("--failed", action="store_true")
    settings_command = commands.add_parser("settings", help="show or change a war room's settings")
    settings_command.add_argument("--war-room", required=True, help="id or key, see `hypercare war-rooms`")
    settings_command.add_argument("--set", action="append", metavar="KEY=VALUE", help=", ".join(SETTING_KEYS))
    export = commands.add_parser("export", help="the issue log, events, runbooks and metrics of a war room, as CSV (zip) or XLSX")
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

    if args.command == "doctor":
        # The doctor reads the settings itself: settings that do not even load are its first finding.
        from bot.doctor import main as doctor_main

        return doctor_main()
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "worker":
        return _worker(settings, args.host, args.port)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print(f"database at the latest schema: {settings.database_url.split('@')[-1]}")
    elif args.command == "parse":
        return _parse(Prefiller(load_vocabulary(settings.vocabulary_path)), args)
    else:
        return asyncio.run(_admin(settings, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
