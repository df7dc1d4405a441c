"""Write a PNG of every card the bot can produce, as Microsoft's Adaptive Cards renderer draws it.

    python -m tests.client.screenshots [--out docs/cards]

Same harness, host config and card list as tests/client/test_cards_render.py; a 700 px wide viewport,
UTC and en-US, so the pictures only change when a card does. Problems the tests would report are printed,
not fatal (the tests are where they fail).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from tests.client.card_renderer import ROOT, VIEWPORT_WIDTH, CardRenderer, missing_prerequisites


async def write_screenshots(out: Path, width: int = VIEWPORT_WIDTH) -> dict[str, list[str]]:
    from tests.client.test_cards_render import renderer_problems, structural_problems
    from tests.unit.test_cards import ALL_CARDS

    out.mkdir(parents=True, exist_ok=True)
    events: dict[str, list[str]] = {}
    async with CardRenderer(width=width) as renderer:
        for name, card in ALL_CARDS.items():
            result = await renderer.render(card, screenshot=True, exercise_show_cards=False)
            if result.png_bytes is None:
                events[name] = ["card.render() produced nothing", *map(str, result.events)]
                continue
            (out / f"{name}.png").write_bytes(result.png_bytes)
            problems = structural_problems(card) + renderer_problems(card, result)
            if problems:
                events[name] = problems
    stale = sorted(p.name for p in out.glob("*.png") if p.stem not in ALL_CARDS)
    if stale:
        print(f"note: {len(stale)} PNG(s) in {out} belong to no current card: {', '.join(stale)}", file=sys.stderr)
    return events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "cards", help="folder for <card name>.png (default: docs/cards)")
    parser.add_argument("--width", type=int, default=VIEWPORT_WIDTH, help="viewport width in CSS pixels (default: %(default)s)")
    args = parser.parse_args(argv)
    missing = missing_prerequisites()
    if missing:
        print("cannot render Adaptive Cards: " + "; ".join(missing), file=sys.stderr)
        return 2
    started = time.monotonic()
    events = asyncio.run(write_screenshots(args.out, args.width))
    for name, lines in events.items():
        print(f"{name}: " + "; ".join(lines), file=sys.stderr)
    count = len(list(args.out.glob("*.png")))
    print(f"{count} card PNGs in {args.out.resolve()} ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    print(args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
