"""`hypercare serve` under asyncio's debug mode, logging every callback that holds the event loop 1 ms or more.

Only for `bench.run --loop-blocks` (never for the timed rows: debug mode itself slows every callback down, so the
blocks it reports are upper bounds). asyncio logs each one as "Executing <handle> took N seconds" (logger `asyncio`,
WARNING); the bench reads them from the server's log.

    python -m bench.servers.loopwatch serve --host 127.0.0.1 --port P      (settings from the HYPERCARE_* environment)
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

THRESHOLD_SECONDS = 0.001

_init = asyncio.BaseEventLoop.__init__


def _watched_init(self: asyncio.BaseEventLoop, *args: Any, **kwargs: Any) -> None:
    _init(self, *args, **kwargs)
    self.set_debug(True)
    self.slow_callback_duration = THRESHOLD_SECONDS


if __name__ == "__main__":
    asyncio.BaseEventLoop.__init__ = _watched_init  # type: ignore[method-assign]  # every loop the app creates
    from bot.cli import main

    sys.exit(main())
