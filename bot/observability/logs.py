"""Log lines that an operator can search: the request, activity and war room each line is about, and JSON on request.

The ids travel in context variables: set once where they become known (the endpoint, the unit of work, the
scheduler), read by every log line of the same task and of the tasks it starts. Log lines carry ids, never what
people wrote, nor tokens (tests/e2e/test_observability.py reads a DEBUG log for them). Libraries whose DEBUG lines
would carry either are held at WARNING whatever the level: SQL with its parameters (SQLAlchemy holds itself there
unless told otherwise), MSAL's and urllib3's token traffic.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Literal

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
ACTIVITY_ID: ContextVar[str | None] = ContextVar("activity_id", default=None)
WAR_ROOM_ID: ContextVar[int | None] = ContextVar("war_room_id", default=None)

# Headers a request id is taken from, in order: Teams' correlation vector, then the usual proxy header.
REQUEST_ID_HEADERS = ("MS-CV", "X-Request-Id")
_SAFE_ID = re.compile(r"[A-Za-z0-9+/=._:-]{1,128}")
# Libraries whose DEBUG (even INFO) lines carry SQL parameters (message text, form values) or token traffic.
QUIET_LOGGERS = ("sqlalchemy", "msal", "urllib3")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

LogFormat = Literal["text", "json"]


def new_request_id() -> str:
    """A new id in the shape of Teams' correlation vector (22 base64 characters, ".0"), as it goes out in MS-CV."""
    return base64.b64encode(os.urandom(16)).decode().rstrip("=") + ".0"


def request_id_from(headers: Mapping[str, str]) -> str:
    """The caller's request id when it sent a sane one, else a new one (a header is never trusted into a log as is)."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value and _SAFE_ID.fullmatch(value):
            return value
    return new_request_id()


def safe_id(value: object) -> str | None:
    """An id from a request (an activity id) fit for a log line, or None."""
    return value if isinstance(value, str) and _SAFE_ID.fullmatch(value) else None


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Everything logged and sent inside carries `request_id`; the activity and war room start unknown."""
    tokens = (REQUEST_ID.set(request_id), ACTIVITY_ID.set(None), WAR_ROOM_ID.set(None))
    try:
        yield
    finally:
        WAR_ROOM_ID.reset(tokens[2])
        ACTIVITY_ID.reset(tokens[1])
        REQUEST_ID.reset(tokens[0])


class ContextFilter(logging.Filter):
    """Puts the ids of the current context on every record (`request_id`, `activity_id`, `war_room_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.activity_id = ACTIVITY_ID.get()
        record.war_room_id = WAR_ROOM_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context ids, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "activity_id": getattr(record, "activity_id", None),
            "war_room_id": getattr(record, "war_room_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str | int, log_format: LogFormat = "text", stream: IO[str] | None = None) -> logging.Handler:
    """The process's logging: one handler added to the root logger, in `log_format`; returns it (tests remove it)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
