"""The prefill's speed benchmark measures what issue 15 limits (start-up, p50 per message), against the rules alone.

No time is asserted here (a busy machine is not a failure): `python -m bench.prefill_speed` reports the figures and
whether the limits are met, and docs/parser.md holds them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.prefill_speed import TEST_SPLIT, main, measure
from bot.domain.prefill_evaluation import read_labelled


def test_it_prefills_every_message_of_the_test_split_beside_the_rules() -> None:
    texts = [row.text for row in read_labelled(TEST_SPLIT)]
    speed = measure(texts, passes=1)
    assert speed.messages == len(texts) > 300
    figures = (speed.load_s, speed.rules_p50_ms, speed.prefill_p50_ms, speed.prefill_p95_ms)
    assert all(math.isfinite(figure) and figure > 0 for figure in figures)
    # The learned model runs after the rules on every message: it cannot be cheaper than them alone.
    assert speed.prefill_p50_ms > speed.rules_p50_ms
    assert speed.prefill_p95_ms >= speed.prefill_p50_ms


def test_it_writes_the_figures_and_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "speed.json"
    assert main(["--passes", "1", "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["messages"] > 300 and isinstance(saved["within_limits"], bool)
    printed = capsys.readouterr().out
    assert "limit 2 s" in printed and "limit p50 2 ms" in printed
