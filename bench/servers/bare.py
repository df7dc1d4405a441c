"""Reference servers made of aiohttp alone, for the rows the bot is compared with:

  --mode bare   (a) read the activity's JSON, answer 200
  --mode post   (b) the same plus one POST to the Bot Connector over one shared keep-alive ClientSession
  --mode floor  (g) the same as (b) plus one row inserted through SQLAlchemy async, on the engine the bot
                    itself uses (storage.db.create_engine: SQLite single connection + WAL, PostgreSQL pool)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers.common import arguments, bench_rows, create_bench_table, reply_body, reply_url, row_values
from storage.db import create_engine

SESSION = web.AppKey("session", aiohttp.ClientSession)
ENGINE = web.AppKey("engine", AsyncEngine)


async def bare(request: web.Request) -> web.Response:
    json.loads(await request.read())
    return web.Response(status=200)


async def post(request: web.Request) -> web.Response:
    activity = json.loads(await request.read())
    async with request.app[SESSION].post(reply_url(activity), json=reply_body(activity)) as response:
        await response.read()
        response.raise_for_status()
    return web.Response(status=200)


async def floor(request: web.Request) -> web.Response:
    activity = json.loads(await request.read())
    async with request.app[ENGINE].begin() as connection:
        await connection.execute(bench_rows.insert().values(**row_values(activity)))
    async with request.app[SESSION].post(reply_url(activity), json=reply_body(activity)) as response:
        await response.read()
        response.raise_for_status()
    return web.Response(status=200)


def build(mode: str, database_url: str) -> web.Application:
    app = web.Application()

    async def session(app: web.Application) -> AsyncIterator[None]:
        app[SESSION] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        yield
        await app[SESSION].close()

    async def database(app: web.Application) -> AsyncIterator[None]:
        app[ENGINE] = create_engine(database_url)
        await create_bench_table(app[ENGINE])
        yield
        await app[ENGINE].dispose()

    if mode in ("post", "floor"):
        app.cleanup_ctx.append(session)
    if mode == "floor":
        app.cleanup_ctx.append(database)
    app.router.add_post("/api/messages", {"bare": bare, "post": post, "floor": floor}[mode])
    return app


def main() -> None:
    parser = arguments(__doc__ or "")
    parser.add_argument("--mode", choices=["bare", "post", "floor"], required=True)
    args = parser.parse_args()
    web.run_app(build(args.mode, args.database_url), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
