"""The learned half of the prefill: severity, category and area read by a linear model from word features.

The model is trained offline (`python -m bot.parser_training`, scikit-learn) on the labelled corpus in
bot/domain/corpus/ and shipped as plain JSON (prefill_model.json): for every feature the weights of each
severity, category and area, and an intercept per class. Inference is this module only: the features of
a message (the same function the trainer calls, so training and inference cannot drift apart), a sparse
dot product and a softmax per field. No numpy, no pickle, nothing loaded from a network.

Features, each group scaled to unit length so a long message does not outweigh a short one:
* words and word pairs ("posting profile"), case-folded, digits reduced to "0" ("PO-000482" → "po", "0");
* character 3- and 4-grams inside words, which carry typos ("recieve"), German compounds
  ("Kreditorenrechnung") and unknown inflections to the features they share with known words;
* what the keyword vocabulary (vocabulary.toml) reads: "vocab_area=warehouse", "vocab_severity=1"… so
  a support lead's vocabulary is one of the model's voices, weighted by training.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.domain.model import Area, Category, IssueDraft, Severity

__all__ = ["DEFAULT_MODEL_PATH", "FIELDS", "FieldModel", "ModelError", "PrefillModel", "features", "field_model", "load_model"]

DEFAULT_MODEL_PATH = Path(__file__).with_name("prefill_model.json")

# The labels of each field, in the order of the weights in the model file. Severity's "none" is the
# label of a message that gives no basis to judge (nothing said about impact).
NO_SEVERITY = "none"
FIELDS: dict[str, tuple[str, ...]] = {
    "severity": ("1", "2", "3", "4", NO_SEVERITY),
    "category": tuple(category.value for category in Category),
    "area": tuple(area.value for area in Area),
}

# How much each feature group counts against the others (each group is unit length first).
GROUP_SCALE = {"w": 1.0, "c": 1.0, "v": 0.7}
_MAX_CHARS = 2000  # a pasted log says nothing more about the field after its first lines
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_DIGITS = re.compile(r"\d+")


class ModelError(ValueError):
    """The model file cannot be used; the message names the file and the problem."""


def features(text: str, vocabulary_guess: IssueDraft | None = None) -> dict[str, float]:
    """The features of a message: name → value, each group of unit length."""
    words = [_DIGITS.sub("0", token) for token in _TOKEN.findall(text[:_MAX_CHARS].casefold())]
    groups: dict[str, set[str]] = {"w": set(), "c": set(), "v": set()}
    word_group, char_group = groups["w"], groups["c"]
    for index, word in enumerate(words):
        word_group.add("w:" + word)
        if index:
            word_group.add(f"b:{words[index - 1]} {word}")
        if len(word) > 2 and not word.isdigit():
            padded = f"<{word}>"
            for size in (3, 4):
                char_group.update("c:" + padded[start : start + size] for start in range(len(padded) - size + 1))
    if vocabulary_guess is not None:
        groups["v"] = _vocabulary_features(vocabulary_guess)
    found: dict[str, float] = {}
    for group, names in groups.items():
        if names:
            value = GROUP_SCALE[group] / math.sqrt(len(names))
            found.update(dict.fromkeys(names, value))
    return found


def _vocabulary_features(draft: IssueDraft) -> set[str]:
    severity = str(draft.severity.value) if draft.severity is not None else NO_SEVERITY
    return {
        f"v:severity={severity}",
        f"v:category={draft.category.value if draft.category else NO_SEVERITY}",
        f"v:area={draft.area.value if draft.area else NO_SEVERITY}",
    }


@dataclass(frozen=True)
class FieldModel:
    """One field's softmax regression: a weight per (feature, label), an intercept per label."""

    labels: tuple[str, ...]
    intercepts: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]

    def probabilities(self, found: Mapping[str, float]) -> dict[str, float]:
        scores = list(self.intercepts)
        weights = self.weights
        for name, value in found.items():
            row = weights.get(name)
            if row is not None:
                scores = [score + value * weight for score, weight in zip(scores, row, strict=True)]
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        total = sum(exps)
        return {label: exp / total for label, exp in zip(self.labels, exps, strict=True)}


@dataclass(frozen=True)
class PrefillModel:
    """The three field models and what they were trained from."""

    fields: Mapping[str, FieldModel]
    corpus_sha256: str  # of the training corpus: the tests refuse weights older than the corpus
    source: Path

    def probabilities(self, found: Mapping[str, float]) -> dict[str, dict[str, float]]:
        return {name: field.probabilities(found) for name, field in self.fields.items()}


def load_model(path: Path | None = None) -> PrefillModel:
    """The model in `path` (default: the one shipped next to this module, read once per process)."""
    return _read_model(Path(path)) if path is not None else _default_model()


@functools.lru_cache(maxsize=1)
def _default_model() -> PrefillModel:
    return _read_model(DEFAULT_MODEL_PATH)


def _read_model(source: Path) -> PrefillModel:
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"{source}: cannot read the model file ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise ModelError(f"{source}: the model file is not JSON ({exc})") from exc
    try:
        return PrefillModel(
            fields={name: field_model(data["fields"][name], labels) for name, labels in FIELDS.items()},
            corpus_sha256=str(data["corpus_sha256"]),
            source=source,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{source}: not a prefill model of this version ({exc!r})") from exc


def field_model(data: Mapping[str, object], labels: Sequence[str]) -> FieldModel:
    if tuple(data["labels"]) != tuple(labels):  # type: ignore[arg-type]
        raise ValueError(f"labels {data['labels']!r}, expected {list(labels)!r}")
    intercepts = _row(data["intercepts"], len(labels))  # type: ignore[arg-type]
    weights = {str(name): _row(row, len(labels)) for name, row in data["weights"].items()}  # type: ignore[attr-defined]
    return FieldModel(tuple(labels), intercepts, weights)


def _row(values: Iterable[object], size: int) -> tuple[float, ...]:
    row = tuple(float(value) for value in values)  # type: ignore[arg-type]
    if len(row) != size:
        raise ValueError(f"a row of {len(row)} weights, expected {size}")
    return row


def severity_of(label: str) -> Severity | None:
    return None if label == NO_SEVERITY else Severity(int(label))
