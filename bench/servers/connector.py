"""A fake Bot Connector for the benchmark, in its own process (its CPU is not the server's).

Answers every call the bots under test make (reply, send, update, delete, members) at once, and counts
requests and *accepted TCP connections* (each connection goes through our protocol factory exactly once),
so that "new connections per reply" is exact rather than guessed from client ports.

    python -m bench.servers.connector --port-file FILE     (FILE receives "DATA_PORT CONTROL_PORT")
    GET http://127.0.0.1:CONTROL_PORT/__stats -> {"connections": N, "requests": N, "by_method": {...}}

The control port is a second listener on the same application whose connections are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
from collections import Counter

from aiohttp import web

STATS: Counter[str] = Counter()
_ids = itertools.count(1)


async def activities(request: web.Request) -> web.Response:
    await request.read()
    STATS["requests"] += 1
    STATS[f"method:{request.method}"] += 1
    if request.method == "DELETE":
        return web.Response(status=200)
    if request.method == "PUT":
        return web.json_response({"id": request.match_info.get("activity", "")})
    return web.json_response({"id": f"sent-{next(_ids)}"})


async def new_conversation(request: web.Request) -> web.Response:
    body = await request.json()
    STATS["requests"] += 1
    STATS["method:POST"] += 1
    channel = (body.get("channelData") or {}).get("channel", {}).get("id", "19:x")
    post_id = f"post-{next(_ids)}"
    return web.json_response({"id": f"{channel};messageid={post_id}", "activityId": post_id})


async def member(request: web.Request) -> web.Response:
    STATS["requests"] += 1
    STATS["method:GET"] += 1
    user = request.match_info["user"]
    return web.json_response({"id": user, "name": "Bench User", "aadObjectId": user, "email": "bench@contoso.com"})


async def stats(request: web.Request) -> web.Response:
    by_method = {key.split(":", 1)[1]: value for key, value in STATS.items() if key.startswith("method:")}
    return web.json_response({"connections": STATS["connections"], "requests": STATS["requests"], "by_method": by_method})


async def serve(port: int, port_file: str | None) -> None:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_route("*", "/v3/conversations/{conversation}/activities", activities)
    app.router.add_route("*", "/v3/conversations/{conversation}/activities/{activity}", activities)
    app.router.add_post("/v3/conversations", new_conversation)
    app.router.add_get("/v3/conversations/{conversation}/members/{user}", member)
    app.router.add_get("/__stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    handler_factory = runner.server
    assert handler_factory is not None

    def counting_factory() -> web.RequestHandler:
        STATS["connections"] += 1
        return handler_factory()

    loop = asyncio.get_running_loop()
    server = await loop.create_server(counting_factory, "127.0.0.1", port, reuse_address=True, backlog=1024)
    actual = server.sockets[0].getsockname()[1]
    control = web.TCPSite(runner, "127.0.0.1", 0)
    await control.start()
    control_port = control._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    if port_file:
        with open(port_file + ".tmp", "w") as out:
            out.write(f"{actual} {control_port}")
        os.replace(port_file + ".tmp", port_file)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.port_file))


if __name__ == "__main__":
    main()
