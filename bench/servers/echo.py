"""(c) the stock botbuilder 4.17.1 echo bot: CloudAdapter + ConfigurationBotFrameworkAuthentication, anonymous
(empty app id), as in Microsoft's sample; it replies through the activity's serviceUrl (the fake connector).

(c') the same bot writing one row per message through SQLAlchemy async (`--database-url`), on the engine the
hypercare bot itself uses (storage.db.create_engine), to the same database as the compared runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers.common import arguments, bench_rows, create_bench_table
from storage.db import create_engine


class Config:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    def __init__(self, engine: AsyncEngine | None) -> None:
        self.engine = engine

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if self.engine is not None:
            async with self.engine.begin() as connection:
                await connection.execute(
                    bench_rows.insert().values(
                        activity_id=activity.id or "",
                        conversation_id=activity.conversation.id,
                        sender_aad_id=activity.from_property.aad_object_id if activity.from_property else None,
                        text=activity.text or "",
                        received_at=datetime.now(timezone.utc),
                    )
                )
        await turn_context.send_activity(MessageFactory.text(f"Echo: {activity.text}"))


def build(database_url: str) -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    holder: dict[str, EchoBot] = {}

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, holder["bot"])

    async def database(app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(database_url) if database_url else None
        if engine is not None:
            await create_bench_table(engine)
        holder["bot"] = EchoBot(engine)
        yield
        if engine is not None:
            await engine.dispose()

    app = web.Application()
    app.cleanup_ctx.append(database)
    app.router.add_post("/api/messages", messages)
    return app


def main() -> None:
    args = arguments(__doc__ or "").parse_args()
    web.run_app(build(args.database_url), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
