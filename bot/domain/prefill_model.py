"""The learned half of the prefill: severity, category and area read by a linear model from word features.

The model is trained offline (`python -m bot.parser_training`, scikit-learn) on the labelled corpus in
bot/domain/corpus/ and shipped as plain JSON (prefill_model.json): the feature names, and for every feature
the weights of each severity, category and area (one flat list of numbers), and an intercept per class. The
trainer folds its three classifiers (logistic regression, complement naive Bayes, a linear SVM) into these
weights, so inference is this module only: the features of a message (the same function the trainer calls,
so training and inference cannot drift apart), a sparse dot product and a softmax per field. No numpy, no
pickle, nothing loaded from a network.

Features, each group scaled to unit length so a long message does not outweigh a short one:
* words and word pairs ("posting profile"), case-folded, digits reduced to "0" ("PO-000482" → "po", "0");
* character 2- to 5-grams inside words, which carry typos ("recieve"), German compounds
  ("Kreditorenrechnung") and unknown inflections to the features they share with known words;
* what the keyword vocabulary (vocabulary.toml) reads: "vocab_area=warehouse", "vocab_severity=1"… so
  a support lead's vocabulary is one of the model's voices, weighted by training.
"""

from __future__ import annotations

import functools
import json
import math
import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.domain.model import Area, Category, IssueDraft, Severity

__all__ = ["DEFAULT_MODEL_PATH", "FIELDS", "ModelError", "PrefillModel", "features", "load_model", "model_of"]

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
            for size in (2, 3, 4, 5):
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
class PrefillModel:
    """Three softmax regressions sharing their features: per feature one row of weights, the labels of
    severity, category and area side by side (FIELDS' order), and an intercept per label.

    The rows live in one flat float32 array, found by the feature's offset: 4 bytes a weight instead of a
    Python float in a tuple (docs/parser.md: 15 MiB of RSS for 27,101 features; dicts of tuples took 23 MiB
    for 11,425).
    """

    index: Mapping[str, int]  # feature -> offset of its row in `weights`
    weights: array[float]
    intercepts: tuple[float, ...]
    corpus_sha256: str  # of the training corpus: the tests refuse weights older than the corpus
    source: Path

    def probabilities(self, found: Mapping[str, float]) -> dict[str, dict[str, float]]:
        width = len(self.intercepts)
        weights, index = self.weights, self.index
        # A group's features share one value: sum their rows column by column at C speed, then scale once.
        rows_by_value: dict[float, list[array[float]]] = {}
        for name, value in found.items():
            offset = index.get(name)
            if offset is not None:
                rows_by_value.setdefault(value, []).append(weights[offset : offset + width])
        scores = list(self.intercepts)
        for value, rows in rows_by_value.items():
            scores = [score + value * sum(column) for score, column in zip(scores, zip(*rows), strict=True)]
        probabilities = {}
        start = 0
        for name, labels in FIELDS.items():
            probabilities[name] = _softmax(labels, scores[start : start + len(labels)])
            start += len(labels)
        return probabilities


def _softmax(labels: Sequence[str], scores: Sequence[float]) -> dict[str, float]:
    top = max(scores)
    exps = [math.exp(score - top) for score in scores]
    total = sum(exps)
    return {label: exp / total for label, exp in zip(labels, exps, strict=True)}


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
        return model_of(data, source)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{source}: not a prefill model of this version ({exc!r})") from exc


def model_of(data: Mapping[str, object], source: Path) -> PrefillModel:
    """The model held by a model file's content: {"fields": {field: {"labels", "intercepts"}}, "features": [name],
    "weights": [for each feature in turn, a weight per label of every field], "corpus_sha256"}. One flat list of
    numbers, not a list per feature: parsing it leaves far less behind in the process (docs/parser.md)."""
    fields: Mapping[str, Mapping[str, Sequence[object]]] = data["fields"]  # type: ignore[assignment]
    intercepts: list[float] = []
    for name, labels in FIELDS.items():
        if tuple(fields[name]["labels"]) != labels:
            raise ValueError(f"{name} labels {fields[name]['labels']!r}, expected {list(labels)!r}")
        intercepts.extend(_row(fields[name]["intercepts"], len(labels)))
    width = len(intercepts)
    names: Sequence[str] = data["features"]  # type: ignore[assignment]
    weights = array("f", data["weights"])  # type: ignore[arg-type]
    if len(weights) != width * len(names):
        raise ValueError(f"{len(weights)} weights for {len(names)} features of {width} labels")
    index = {str(name): row * width for row, name in enumerate(names)}
    return PrefillModel(index, weights, tuple(intercepts), str(data["corpus_sha256"]), source)


def _row(values: Iterable[object], size: int) -> tuple[float, ...]:
    row = tuple(float(value) for value in values)  # type: ignore[arg-type]
    if len(row) != size:
        raise ValueError(f"a row of {len(row)} weights, expected {size}")
    return row


def severity_of(label: str) -> Severity | None:
    return None if label == NO_SEVERITY else Severity(int(label))
