"""The hypercare app exactly as `hypercare serve` builds it, plus a count of the SQL it runs.

Only for `bench.run --profile` (never for the timed rows): SQLAlchemy engine events count statements
(by their first keyword and by their text) and transactions; GET /__sql answers the counts so far.

    python -m bench.servers.instrumented --port P      (settings from the HYPERCARE_* environment)
"""

from __future__ import annotations

import argparse
import logging
import re
from collections import Counter
from typing import Any

from aiohttp import web
from sqlalchemy import event
from sqlalchemy.engine import Engine

STATEMENTS: Counter[str] = Counter()
KINDS: Counter[str] = Counter()
TRANSACTIONS: Counter[str] = Counter()


def _shape(statement: str) -> str:
    """One line per distinct statement: whitespace folded, long column lists cut."""
    text = re.sub(r"\s+", " ", statement).strip()
    return text if len(text) <= 160 else text[:157] + "..."


@event.listens_for(Engine, "before_cursor_execute")
def _count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    KINDS[statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"] += 1
    STATEMENTS[_shape(statement)] += 1


@event.listens_for(Engine, "begin")
def _begin(conn: Any) -> None:
    TRANSACTIONS["begin"] += 1


@event.listens_for(Engine, "commit")
def _commit(conn: Any) -> None:
    TRANSACTIONS["commit"] += 1


@event.listens_for(Engine, "rollback")
def _rollback(conn: Any) -> None:
    TRANSACTIONS["rollback"] += 1


async def sql(request: web.Request) -> web.Response:
    return web.json_response(
        {"kinds": dict(KINDS), "statements": dict(STATEMENTS), "transactions": dict(TRANSACTIONS), "total": sum(KINDS.values())}
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    from app import create_app
    from bot.config import Settings

    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    app.router.add_get("/__sql", sql)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
