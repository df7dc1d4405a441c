"""What the learned prefill costs: start-up, memory and time per message, beside the rules alone in the same run.

    python -m bench.prefill_speed                 # the shipped test split, 5 passes; prints the table and the limits
    python -m bench.prefill_speed --passes 1 --json out.json

Issue 15's limits: the bot's start-up grows by at most 2 s (reading the weights and building the prefiller), a message
is prefilled in at most 2 ms at the median. The baseline is `parse_issue_draft` (the rules the prefill starts from) on the
same messages in the same process, so a busy machine shows as a slow baseline too. A measurement, not a test: it never
fails on a time (tests/bench/test_prefill_speed.py checks that it measures).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.measure import load_average, process_rss_mib
from bot.domain.parsing import load_vocabulary, parse_issue_draft
from bot.domain.prefill import Prefiller
from bot.domain.prefill_evaluation import read_labelled
from bot.domain.prefill_model import DEFAULT_MODEL_PATH, load_model

TEST_SPLIT = Path(__file__).resolve().parents[1] / "bot" / "domain" / "corpus" / "test.jsonl"
STARTUP_LIMIT_S = 2.0
MEDIAN_LIMIT_MS = 2.0


@dataclass(frozen=True)
class PrefillSpeed:
    messages: int
    load_s: float
    model_rss_mib: float
    rules_p50_ms: float
    prefill_p50_ms: float
    prefill_p95_ms: float
    load_average: float

    @property
    def within_limits(self) -> bool:
        return self.load_s <= STARTUP_LIMIT_S and self.prefill_p50_ms <= MEDIAN_LIMIT_MS

    def text(self) -> str:
        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        return "\n".join(
            [
                f"{self.messages} messages, load average {self.load_average:.2f}",
                f"start-up: model read and prefiller built in {self.load_s:.2f} s "
                f"(limit {STARTUP_LIMIT_S:.0f} s: {verdict(self.load_s <= STARTUP_LIMIT_S)}); "
                f"RSS +{self.model_rss_mib:.1f} MiB",
                f"per message: rules alone p50 {self.rules_p50_ms:.3f} ms; prefill p50 {self.prefill_p50_ms:.3f} ms, "
                f"p95 {self.prefill_p95_ms:.3f} ms (limit p50 {MEDIAN_LIMIT_MS:.0f} ms: "
                f"{verdict(self.prefill_p50_ms <= MEDIAN_LIMIT_MS)}), {self.prefill_p50_ms / self.rules_p50_ms:.1f}× the rules",
            ]
        )


def _timings_ms(run: Callable[[str], object], texts: Sequence[str], passes: int) -> list[float]:
    took = []
    for _ in range(passes):
        for text in texts:
            begun = time.perf_counter()
            run(text)
            took.append((time.perf_counter() - begun) * 1000)
    return took


def measure(texts: Sequence[str], passes: int, model_path: Path = DEFAULT_MODEL_PATH) -> PrefillSpeed:
    vocabulary = load_vocabulary()
    rss_before = process_rss_mib(os.getpid())
    started = time.perf_counter()
    prefiller = Prefiller(vocabulary, load_model(model_path))  # a path given: read from disk, as at start-up
    load_s = time.perf_counter() - started
    model_rss = process_rss_mib(os.getpid()) - rss_before
    def rules_alone(text: str) -> object:
        return parse_issue_draft(text, vocabulary)

    _timings_ms(prefiller.prefill, texts, 1)  # warm-up: the first pass fills the interpreter's and the regex caches
    rules = _timings_ms(rules_alone, texts, passes)
    prefill = _timings_ms(prefiller.prefill, texts, passes)
    return PrefillSpeed(
        messages=len(texts),
        load_s=load_s,
        model_rss_mib=model_rss,
        rules_p50_ms=statistics.median(rules),
        prefill_p50_ms=statistics.median(prefill),
        prefill_p95_ms=statistics.quantiles(prefill, n=20)[-1],
        load_average=load_average(),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.prefill_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, default=TEST_SPLIT, help="labelled JSONL whose texts are prefilled")
    parser.add_argument("--passes", type=int, default=5, help="times every message is prefilled (after one warm-up pass)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    texts = [row.text for row in read_labelled(args.messages)]
    speed = measure(texts, args.passes)
    print(speed.text())
    if args.json:
        args.json.write_text(json.dumps(asdict(speed) | {"within_limits": speed.within_limits}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
