"""Train the prefill model (bot/domain/prefill_model.json) from the labelled corpus, offline.

    pip install -e '.[train]'            # scikit-learn, only for training
    python -m bot.parser_training        # bot/domain/corpus/train.jsonl -> bot/domain/prefill_model.json

The bot itself never imports this module nor scikit-learn: it reads the weights written here with the
pure-Python inference of bot/domain/prefill_model.py. The features come from that module too, so what
is trained is what runs. The test split and the streams are never read here (docs/parser.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bot.domain.parsing import Vocabulary, load_vocabulary, parse_issue_draft
from bot.domain.prefill import Prefill, Prefiller
from bot.domain.prefill_evaluation import read_labelled, score
from bot.domain.prefill_model import DEFAULT_MODEL_PATH, FIELDS, NO_SEVERITY, features, model_of

CORPUS = Path(__file__).with_name("domain") / "corpus"
DEFAULT_TRAIN = CORPUS / "train.jsonl"
# Regularisation (inverse strength) of each field's logistic regression, chosen by 5-fold cross-validation
# on the training split (docs/parser.md).
C = {"severity": 20.0, "category": 20.0, "area": 20.0}
# Each label weighs as much as the others in training: otherwise the commonest ("defect", "no basis to judge") absorbs
# the cases between two labels (a failing interface read as a failing feature). +2 points of category, +0.8 of
# severity in cross-validation (docs/parser.md).
CLASS_WEIGHT = "balanced"
MIN_DOCUMENTS = 2  # a feature seen in a single training message is noise more often than signal
DECIMALS = 4


def corpus_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_corpus(path: Path) -> list[dict[str, object]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise SystemExit(f"{path}:{number}: not a JSON object ({exc})") from exc
    return rows


def label(row: dict[str, object], field: str) -> str:
    value = row.get(field)
    return NO_SEVERITY if value is None else str(value)


def message_features(rows: Sequence[dict[str, object]], vocabulary: Vocabulary) -> list[dict[str, float]]:
    found = []
    for row in rows:
        rules = parse_issue_draft(str(row["text"]), vocabulary)
        found.append(features(rules.description, rules))
    return found


def train(rows: Sequence[dict[str, object]], vocabulary: Vocabulary, c: dict[str, float] | None = None) -> dict[str, object]:
    """The model file's content (without the corpus hash)."""
    import numpy  # training only: the bot never needs scikit-learn
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    found = message_features(rows, vocabulary)
    documents = Counter(name for message in found for name in message)
    kept = [{name: value for name, value in message.items() if documents[name] >= MIN_DOCUMENTS} for message in found]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(kept)
    names = vectorizer.get_feature_names_out()
    fields: dict[str, object] = {}
    columns = []  # per field, its classifier's weights in FIELDS' label order
    for field, labels in FIELDS.items():
        targets = [label(row, field) for row in rows]
        classifier = LogisticRegression(C=(c or C)[field], class_weight=CLASS_WEIGHT, max_iter=5000).fit(matrix, targets)
        if set(classifier.classes_) != set(labels):
            raise SystemExit(f"the corpus must hold every {field} ({', '.join(labels)}); it has {sorted(set(targets))}")
        order = [list(classifier.classes_).index(name) for name in labels]
        fields[field] = {"labels": list(labels), "intercepts": [round(float(classifier.intercept_[index]), DECIMALS) for index in order]}
        columns.append(classifier.coef_[order])
    coefficients = numpy.vstack(columns).T.round(DECIMALS)  # a row per feature, every field's labels side by side
    kept = coefficients.any(axis=1)
    return {
        "fields": fields,
        "features": [str(name) for name in names[kept]],
        "weights": [float(weight) for weight in coefficients[kept].ravel()],
    }


def cross_validate(rows: Sequence[dict[str, object]], vocabulary: Vocabulary, folds: int = 5) -> list[Prefill]:
    """Each training message prefilled by a model trained on the other folds: figures to tune by, without the test split."""
    prefills: list[Prefill | None] = [None] * len(rows)
    for fold in range(folds):
        held_out = [index for index in range(len(rows)) if index % folds == fold]
        rest = [row for index, row in enumerate(rows) if index % folds != fold]
        model = model_of({**train(rest, vocabulary), "corpus_sha256": ""}, Path(f"fold-{fold}"))
        prefiller = Prefiller(vocabulary, model)
        for index in held_out:
            prefills[index] = prefiller.prefill(str(rows[index]["text"]))
    return [prefill for prefill in prefills if prefill is not None]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.parser_training", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_TRAIN, help="labelled JSONL (default: the shipped training split)")
    parser.add_argument("--vocabulary", type=Path, help="the vocabulary the bot runs with (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--cross-validate", action="store_true", help="print 5-fold figures on the corpus instead of training")
    args = parser.parse_args(argv)
    rows = read_corpus(args.corpus)
    if args.cross_validate:
        print(score(read_labelled(args.corpus), cross_validate(rows, load_vocabulary(args.vocabulary))).text())
        return 0
    model = train(rows, load_vocabulary(args.vocabulary))
    model["corpus_sha256"] = corpus_sha256(args.corpus)
    args.out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"trained on {len(rows)} messages from {args.corpus}; wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
