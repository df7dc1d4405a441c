"""How good the prefill is on labelled messages: what `hypercare parse --evaluate` prints and `make test` checks.

A labelled message is one JSON object per line: {"text", "severity", "category", "area", "company"}; a null
severity means the text gives no basis to judge one (the right prefill is "please choose").

Two readings of each field:
* top guess: the most likely value, as if every field were prefilled. Accuracy and macro-F1 are of this.
* prefilled: only the values the form actually fills in; the rest are "please choose". Its precision
  and coverage show what the confidence thresholds trade.
Sev 1 recall is of the form as shown: a Sev 1 message counts as caught when it is prefilled Sev 1 or left
for the reporter to choose, and as missed when a milder severity is prefilled. Strict recall (top guess
is Sev 1) is printed beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.domain.model import Area, Category, Severity
from bot.domain.prefill import LabelledExample, Prefill, Prefiller
from bot.domain.prefill_model import FIELDS, NO_SEVERITY

__all__ = ["FieldScore", "Labelled", "Scores", "evaluate", "evaluate_stream", "read_labelled"]

ASK = "?"  # a field left for the reporter


@dataclass(frozen=True)
class Labelled:
    text: str
    severity: str  # "1".."4" or NO_SEVERITY
    category: str
    area: str
    company: str | None

    def example(self) -> LabelledExample:
        """The message as a confirmed issue of its war room (what the stream replay learns from)."""
        return LabelledExample(
            text=self.text,
            severity=None if self.severity == NO_SEVERITY else Severity(int(self.severity)),
            category=Category(self.category),
            area=Area(self.area),
        )


class LabelledError(ValueError):
    """A labelled file cannot be read; the message names the line."""


def read_labelled(path: Path) -> list[Labelled]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            severity = NO_SEVERITY if data.get("severity") is None else str(Severity(int(data["severity"])).value)
            rows.append(
                Labelled(
                    text=str(data["text"]),
                    severity=severity,
                    category=Category(data["category"]).value,
                    area=Area(data["area"]).value,
                    company=data.get("company"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise LabelledError(f"{path}:{number}: {exc!r}") from exc
    return rows


@dataclass(frozen=True)
class FieldScore:
    name: str
    total: int
    top_correct: int
    macro_f1: float
    prefilled: int
    prefilled_correct: int
    confusion: dict[tuple[str, str], int]  # (label, top guess) -> count

    @property
    def accuracy(self) -> float:
        return self.top_correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class Scores:
    fields: dict[str, FieldScore]
    sev1_total: int
    sev1_caught: int  # prefilled Sev 1 or left to choose
    sev1_top: int  # top guess Sev 1
    company_correct: int
    total: int

    @property
    def sev1_recall(self) -> float:
        return self.sev1_caught / self.sev1_total if self.sev1_total else 1.0

    def text(self) -> str:
        lines = [f"{self.total} messages"]
        for score in self.fields.values():
            coverage = score.prefilled / score.total if score.total else 0.0
            precision = score.prefilled_correct / score.prefilled if score.prefilled else 0.0
            lines.append(
                f"{score.name:9} top-guess accuracy {score.accuracy:6.1%}  macro-F1 {score.macro_f1:.3f}  "
                f"prefilled {coverage:6.1%} of messages, {precision:6.1%} of them right"
            )
        strict = self.sev1_top / self.sev1_total if self.sev1_total else 1.0
        lines.append(
            f"Sev 1 recall {self.sev1_recall:6.1%} ({self.sev1_caught}/{self.sev1_total} prefilled Sev 1 or left to choose; "
            f"top guess Sev 1: {strict:.1%})"
        )
        lines.append(f"company      {self.company_correct / self.total if self.total else 0.0:6.1%}")
        for score in self.fields.values():
            lines.append("")
            lines.extend(_confusion_table(score))
        return "\n".join(lines)


def _draft_value(prefill: Prefill, name: str) -> str:
    value = getattr(prefill.draft, name)
    if value is None:
        return ASK
    return str(value.value)


def score(rows: Sequence[Labelled], prefills: Sequence[Prefill]) -> Scores:
    fields = {}
    for name, labels in FIELDS.items():
        truth = [getattr(row, name) for row in rows]
        top = [prefill.top.get(name, NO_SEVERITY) for prefill in prefills]
        shown = [_draft_value(prefill, name) for prefill in prefills]
        confusion: dict[tuple[str, str], int] = {}
        for label, guess in zip(truth, top, strict=True):
            confusion[(label, guess)] = confusion.get((label, guess), 0) + 1
        prefilled = [(label, value) for label, value in zip(truth, shown, strict=True) if value != ASK]
        fields[name] = FieldScore(
            name=name,
            total=len(rows),
            top_correct=sum(label == guess for label, guess in zip(truth, top, strict=True)),
            macro_f1=_macro_f1(truth, top, labels),
            prefilled=len(prefilled),
            prefilled_correct=sum(label == value for label, value in prefilled),
            confusion=confusion,
        )
    sev1 = [(prefill, _draft_value(prefill, "severity")) for row, prefill in zip(rows, prefills, strict=True) if row.severity == "1"]
    return Scores(
        fields=fields,
        sev1_total=len(sev1),
        sev1_caught=sum(value in ("1", ASK) for _, value in sev1),
        sev1_top=sum(prefill.top.get("severity") == "1" for prefill, _ in sev1),
        company_correct=sum((row.company or None) == prefill.draft.company for row, prefill in zip(rows, prefills, strict=True)),
        total=len(rows),
    )


def _macro_f1(truth: Sequence[str], guesses: Sequence[str], labels: Iterable[str]) -> float:
    """The mean F1 of the labels that occur in the truth (a label nobody has cannot be recalled)."""
    present = [label for label in labels if label in truth]
    total = 0.0
    for label in present:
        hits = sum(t == label and g == label for t, g in zip(truth, guesses, strict=True))
        predicted = sum(g == label for g in guesses)
        actual = sum(t == label for t in truth)
        total += 2 * hits / (predicted + actual) if predicted + actual else 0.0
    return total / len(present) if present else 0.0


def _confusion_table(field: FieldScore) -> list[str]:
    labels = [label for label in FIELDS[field.name] if any(label in pair for pair in field.confusion)]
    width = max(len(label) for label in labels) + 1
    short = [label[:6] for label in labels]
    lines = [f"{field.name}: rows are the labels, columns the top guesses", " " * width + " ".join(f"{s:>6}" for s in short)]
    for label in labels:
        counts = " ".join(f"{field.confusion.get((label, guess), 0) or '.':>6}" for guess in labels)
        lines.append(f"{label:<{width}}{counts}")
    return lines


def evaluate(prefiller: Prefiller, rows: Sequence[Labelled]) -> Scores:
    """Each message prefilled cold: no war room memory."""
    return score(rows, [prefiller.prefill(row.text) for row in rows])


@dataclass(frozen=True)
class StreamScores:
    learned: Scores  # on the last third, with the war room's earlier messages confirmed
    cold: Scores  # the same messages, without memory
    seen: int  # how many confirmed messages came before the last third


def evaluate_stream(prefiller: Prefiller, rows: Sequence[Labelled]) -> StreamScores:
    """Replay one war room in order: each message is prefilled, then confirmed with its labels."""
    start = len(rows) - max(1, len(rows) // 3) if rows else 0
    memory: list[LabelledExample] = []
    learned = []
    for index, row in enumerate(rows):
        if index >= start:
            learned.append(prefiller.prefill(row.text, memory))
        memory.append(row.example())
    tail = rows[start:]
    return StreamScores(score(tail, learned), evaluate(prefiller, tail), start)
