"""What one SQL statement costs in CPU through each layer the bot could use, on SQLite (no network: pure stack cost).

    python -m bench.statement_cost            # a temporary SQLite database, migrated; prints µs of CPU per statement

The same indexed one-row read (the war room by key, as every turn does) through: the ORM session (`session.execute`
of a Core select), the Core connection (`connection.execute`), and the driver (`exec_driver_sql` with the SQL text).
A measurement, not a test: it never asserts a time.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import WarRoomRow

ROUNDS = 3000


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'cost.db'}"
        engine = create_engine(url)
        await upgrade(engine)
        table = WarRoomRow.__table__
        query = select(table).where(table.c.key == "k")
        sql = str(query.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
        sessions = create_session_factory(engine)

        async def orm() -> None:
            async with sessions() as session:
                for _ in range(ROUNDS):
                    (await session.execute(query)).one_or_none()

        async def core() -> None:
            async with engine.connect() as connection:
                for _ in range(ROUNDS):
                    (await connection.execute(query)).one_or_none()

        async def driver() -> None:
            async with engine.connect() as connection:
                for _ in range(ROUNDS):
                    (await connection.exec_driver_sql(sql)).one_or_none()

        for name, run in (("AsyncSession.execute(select)", orm), ("AsyncConnection.execute(select)", core),
                          ("AsyncConnection.exec_driver_sql(text)", driver)):
            await run()  # warm: compiled-statement cache, connection
            costs = []
            for _ in range(3):
                started = time.process_time()
                await run()
                costs.append((time.process_time() - started) / ROUNDS * 1e6)
            print(f"{name:42s} {min(costs):7.1f} µs CPU per statement (least of 3 × {ROUNDS})")
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
