"""The issue form's prefill: rules for what is written explicitly, a learned model for the rest, and what
this war room has confirmed before.

* Rules (parsing.py): title, description, an explicit severity marker ("sev1", "P2", "priority: high"),
  the legal entity, the head count; d365_details.py: document numbers and the environment.
* The model (prefill_model.py): a probability for every severity, category and area.
* The war room's memory: issues it confirmed (the submitted form) and corrected since (a triage change of
  severity or category). The nearest of them vote, weighted by how alike they are, and the vote is mixed
  into the model's probabilities: after a few confirmed "Zebra guns" issues, the next one is a warehouse
  issue although no corpus knows the word. Only the asking war room's issues are ever passed in.
* Confidence: a field whose best probability is below its threshold is left empty for the reporter
  ("please choose"). Severity is asymmetric: a message with a fair chance of being a Sev 1 is never
  prefilled with a milder severity; it is prefilled Sev 1 when that is likely enough, else left to choose.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.d365_details import documents, documents_text, environment
from bot.domain.model import Area, Category, IssueDraft, Severity
from bot.domain.parsing import Vocabulary, explicit_severity, load_vocabulary, parse_issue_draft
from bot.domain.prefill_model import NO_SEVERITY, PrefillModel, features, load_model, severity_of

__all__ = ["LabelledExample", "Prefill", "Prefiller", "Thresholds"]


@dataclass(frozen=True)
class Thresholds:
    """When a guess is confident enough to prefill. Chosen on the training corpus (docs/parser.md)."""

    category: float = 0.5
    area: float = 0.5
    severity: float = 0.5
    # P(Sev 1) from which a milder severity is never prefilled (Sev 1 recall before convenience).
    sev1_floor: float = 0.2
    # The war room's memory: neighbours at least this alike count, at most `neighbours` of them, and
    # their vote weighs at most this much against the model, per field. Severity hardly: how bad an issue
    # is is said in its own words ("nobody can"), while the local names that make neighbours alike say
    # which area and what kind it is.
    similarity: float = 0.2
    neighbours: int = 5
    memory_weight: Mapping[str, float] = field(default_factory=lambda: {"severity": 0.0, "category": 0.5, "area": 1.0})


@dataclass(frozen=True)
class LabelledExample:
    """An issue this war room confirmed: its text and its current severity, category and area."""

    text: str
    severity: Severity | None
    category: Category | None
    area: Area | None


@dataclass(frozen=True)
class Prefill:
    """The draft to show, the fields left for the reporter, and the probabilities behind them."""

    draft: IssueDraft
    unsure: frozenset[str]  # "severity", "category", "area": shown as "please choose"
    probabilities: Mapping[str, Mapping[str, float]] = field(repr=False)
    # The best guess of each field, confident or not (what --evaluate scores as "top guess").
    top: Mapping[str, str] = field(repr=False)


class Prefiller:
    """Reads a prefill from a message; one per process, it holds the vocabulary and the model."""

    def __init__(
        self, vocabulary: Vocabulary | None = None, model: PrefillModel | None = None, thresholds: Thresholds | None = None
    ) -> None:
        self.vocabulary = vocabulary if vocabulary is not None else load_vocabulary()
        self.model = model if model is not None else load_model()
        self.thresholds = thresholds or Thresholds()
        # Words the model learned from the corpus; the others are the war room's own ("Zebra guns", "Basware").
        self._known = self.model.index

    def prefill(self, text: str, memory: Sequence[LabelledExample] = ()) -> Prefill:
        rules = parse_issue_draft(text, self.vocabulary)
        if not rules.description:
            return Prefill(rules, frozenset(), {}, {})
        probabilities = self.model.probabilities(features(rules.description, rules))
        if memory:
            vote = _vote(rules.description, memory, self.thresholds, self._known)
            probabilities = _mix(probabilities, vote, self.thresholds)
        top = {name: max(values, key=values.__getitem__) for name, values in probabilities.items()}
        severity, severity_unsure = self._severity(text, probabilities["severity"], top["severity"])
        category = _confident(probabilities["category"], top["category"], self.thresholds.category)
        area = _confident(probabilities["area"], top["area"], self.thresholds.area)
        unsure = {
            name
            for name, value, is_unsure in (
                ("severity", severity, severity_unsure),
                ("category", category, True),
                ("area", area, True),
            )
            if value is None and is_unsure
        }
        draft = rules.model_copy(
            update={
                "severity": severity,
                "category": Category(category) if category else None,
                "area": Area(area) if area else None,
                "environment": environment(rules.description),
                "documents": documents_text(documents(rules.description)) or None,
            }
        )
        return Prefill(draft, frozenset(unsure), probabilities, top)

    def _severity(self, text: str, probabilities: Mapping[str, float], top: str) -> tuple[Severity | None, bool]:
        """(severity, whether the reporter must choose it): an explicit marker wins outright."""
        marked = explicit_severity(text, self.vocabulary)
        if marked is not None:
            return marked, False
        sev1 = probabilities["1"]
        if top == "1" and sev1 >= self.thresholds.severity:
            return Severity.SEV1, False
        if sev1 >= self.thresholds.sev1_floor or top == NO_SEVERITY:
            return None, True
        return (severity_of(top), False) if probabilities[top] >= self.thresholds.severity else (None, True)


def _confident(probabilities: Mapping[str, float], top: str, threshold: float) -> str | None:
    return top if probabilities[top] >= threshold else None


# --- The war room's memory

_WORD = re.compile(r"[^\W\d_]{3,}")
# Words too common in hypercare reports to say which issue is which.
_COMMON = frozenset(
    "the and for not but with from this that have has are was were can cant can't cannot all any our they "
    "since today again when what how does doesn't don't didn't won't into after still there been get got "
    "error issue issues problem please help team users user wrong missing working work".split()
)


# A word the corpus never had counts this much more than a known one when comparing two messages of a war
# room: local names ("Zebra guns", "the 6am wave", "Basware") are what tells its issues apart.
JARGON_WEIGHT = 3.0


def _terms(text: str, known: Container[str]) -> dict[str, float]:
    """The words and word pairs of a message, each with its weight."""
    words = [word for word in _WORD.findall(text.casefold()) if word not in _COMMON]
    terms = {word: 1.0 if f"w:{word}" in known else JARGON_WEIGHT for word in words}
    terms.update((f"{first} {second}", 1.0) for first, second in zip(words, words[1:], strict=False))
    return terms


def _similarity(mine: Mapping[str, float], theirs: Mapping[str, float]) -> float:
    shared = sum(weight * weight for term, weight in mine.items() if term in theirs)
    if not shared:
        return 0.0
    return shared / (sum(w * w for w in mine.values()) * sum(w * w for w in theirs.values())) ** 0.5


def _vote(
    text: str, memory: Sequence[LabelledExample], thresholds: Thresholds, known: Container[str]
) -> tuple[dict[str, dict[str, float]], float]:
    """The labels of the nearest confirmed issues, each weighted by its similarity, and the best similarity."""
    mine = _terms(text, known)
    if not mine:
        return {}, 0.0
    scored = []
    for example in memory:
        similarity = _similarity(mine, _terms(example.text, known))
        if similarity >= thresholds.similarity:
            scored.append((similarity, example))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    votes: dict[str, dict[str, float]] = {"severity": {}, "category": {}, "area": {}}
    for similarity, example in scored[: thresholds.neighbours]:
        labels = {
            "severity": str(example.severity.value) if example.severity else None,
            "category": example.category.value if example.category else None,
            "area": example.area.value if example.area else None,
        }
        for name, label in labels.items():
            if label is not None:
                votes[name][label] = votes[name].get(label, 0.0) + similarity
    return votes, scored[0][0] if scored else 0.0


def _mix(
    probabilities: Mapping[str, Mapping[str, float]], vote: tuple[dict[str, dict[str, float]], float], thresholds: Thresholds
) -> dict[str, dict[str, float]]:
    """The model's probabilities moved towards the neighbours' vote, the more the closer they are."""
    votes, best = vote
    mixed: dict[str, dict[str, float]] = {}
    for name, values in probabilities.items():
        weight = thresholds.memory_weight.get(name, 0.0) * min(1.0, best)
        tally = votes.get(name) or {}
        total = sum(tally.values())
        if not total or not weight:
            mixed[name] = dict(values)
            continue
        mixed[name] = {label: (1 - weight) * p + weight * tally.get(label, 0.0) / total for label, p in values.items()}
    return mixed
