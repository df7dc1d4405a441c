"""Render Adaptive Cards with Microsoft's `adaptivecards` JS renderer in headless Debian Chromium.

One browser serves every card: start a `CardRenderer` once (a session fixture, or `async with` in a
script) and call `render(card)` for each. The page (`render.html`) loads
`node_modules/adaptivecards/dist/adaptivecards.min.js` by file URL, uses a Teams-like host config and a
tiny markdown processor, and reports the renderer's parse events and `validateProperties()` events.
Nothing leaves the machine: every request that is not a file or loopback URL is aborted.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
RENDER_HTML = Path(__file__).resolve().with_name("render.html")
ADAPTIVECARDS_JS = ROOT / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT_WIDTH = 700
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def missing_prerequisites() -> list[str]:
    """What is missing to render cards here (empty when everything is in place)."""
    missing = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        missing.append(f"Chromium not found at {CHROMIUM}" + (f" (there is one at {found}: set CHROMIUM)" if found else " (`make chromium`)"))
    if not ADAPTIVECARDS_JS.is_file():
        missing.append(f"{ADAPTIVECARDS_JS.relative_to(ROOT)} not found (`npm ci`)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python is not installed (`pip install -e '.[dev]'`)")
    return missing


@dataclass(frozen=True)
class Event:
    """One parse or validation event of the renderer, e.g. `Parse/InvalidPropertyValue: ...`."""

    phase: str
    event: str
    message: str

    def __str__(self) -> str:
        return f"{self.phase}/{self.event}: {self.message}"


@dataclass(frozen=True)
class RenderedAction:
    """An action the renderer parsed (card actions, ActionSets, selectActions, inside show cards)."""

    type: str
    title: str


@dataclass(frozen=True)
class ShowCardCheck:
    title: str
    opened: bool
    why: str = ""


@dataclass(frozen=True)
class RenderResult:
    parse_events: list[Event]
    validation_events: list[Event]
    png_bytes: bytes | None = None
    rendered: bool = True  # card.render() returned an element
    text: str = ""  # what a reader sees (innerText of the rendered card)
    actions: list[RenderedAction] = field(default_factory=list)
    show_cards: list[ShowCardCheck] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions and console errors

    @property
    def events(self) -> list[Event]:
        return [*self.parse_events, *self.validation_events]


def _allowed(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in _LOOPBACK


class CardRenderer:
    """One headless Chromium with the renderer page loaded; `render(card)` as many times as needed.

    async with CardRenderer() as renderer:
        result = await renderer.render(card, screenshot=True)
    """

    def __init__(self, *, width: int = VIEWPORT_WIDTH, height: int = 900) -> None:
        self.width = width
        self.height = height
        self.blocked: list[str] = []  # requests the page tried to make off the machine
        self._errors: list[str] = []
        self._playwright: Any = None
        self._browser: Any = None
        self._page: Any = None

    async def start(self) -> CardRenderer:
        missing = missing_prerequisites()
        if missing:
            raise RuntimeError("; ".join(missing))
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = await self._browser.new_context(
                viewport={"width": self.width, "height": self.height},
                device_scale_factor=1,
                locale="en-US",
                timezone_id="UTC",
                color_scheme="light",
                reduced_motion="reduce",
            )
            await context.route("**/*", self._route)
            page = await context.new_page()
            page.on("pageerror", lambda error: self._errors.append(f"pageerror: {error}"))
            page.on("console", self._on_console)
            await page.goto(RENDER_HTML.as_uri())
            status = await page.evaluate("() => window.harnessError || (window.harnessReady ? 'ready' : 'not ready')")
            if status != "ready":
                raise RuntimeError(f"renderer page {RENDER_HTML} is {status!r}; errors: {self._errors}")
            self._page = page
        except BaseException:
            await self.close()
            raise
        return self

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self._errors.append(f"console: {message.text}")

    async def _route(self, route: Any) -> None:
        url = route.request.url
        if _allowed(url):
            await route.continue_()
        else:
            self.blocked.append(url)
            await route.abort()

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
        self._page = None

    async def __aenter__(self) -> CardRenderer:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    @property
    def page(self) -> Any:
        if self._page is None:
            raise RuntimeError("CardRenderer is not started")
        return self._page

    async def render(self, card: dict[str, Any], *, screenshot: bool = False, exercise_show_cards: bool = True) -> RenderResult:
        """Parse, validate and render one card; optionally screenshot it and open each Action.ShowCard."""
        self._errors.clear()
        page = self.page
        raw = await page.evaluate("card => window.renderCard(card)", card)
        png = None
        if screenshot and raw["rendered"]:
            png = await page.locator("#card").screenshot(type="png", animations="disabled", caret="hide", scale="css")
        checks = await page.evaluate("() => window.exerciseShowCards()") if exercise_show_cards else []
        return RenderResult(
            parse_events=[Event(**e) for e in raw["parseEvents"]],
            validation_events=[Event(**e) for e in raw["validationEvents"]],
            png_bytes=png,
            rendered=raw["rendered"],
            text=raw["text"],
            actions=[RenderedAction(**a) for a in raw["actions"]],
            show_cards=[ShowCardCheck(**c) for c in checks],
            page_errors=list(self._errors),
        )

    async def executed_actions(self) -> list[dict[str, Any]]:
        """The actions clicked since the last render, as the renderer handed them to the host."""
        return await self.page.evaluate("() => window.executed")

    async def inner_html(self) -> str:
        return await self.page.inner_html("#card")
