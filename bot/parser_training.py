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
from typing import Any

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
# Each field's scores are the logistic regression's, plus complement naive Bayes' and a linear SVM's times these
# weights, over a temperature that keeps the probabilities calibrated (the thresholds of prefill.py read them):
# (naive Bayes weight, SVM weight, temperature), chosen by 5-fold cross-validation (docs/parser.md).
ENSEMBLE = {"severity": (1.0, 2.0, 2.0), "category": (2.0, 1.0, 2.0), "area": (4.0, 2.0, 3.0)}
NB_ALPHA = 0.3
SVM_C = 0.5
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

    found = message_features(rows, vocabulary)
    documents = Counter(name for message in found for name in message)
    kept = [{name: value for name, value in message.items() if documents[name] >= MIN_DOCUMENTS} for message in found]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(kept)
    names = vectorizer.get_feature_names_out()
    fields: dict[str, object] = {}
    columns = []  # per field, its weights in FIELDS' label order
    for field, labels in FIELDS.items():
        targets = [label(row, field) for row in rows]
        if set(targets) != set(labels):
            raise SystemExit(f"the corpus must hold every {field} ({', '.join(labels)}); it has {sorted(set(targets))}")
        coefficients, intercepts = _ensemble(field, matrix, targets, labels, (c or C)[field])
        fields[field] = {"labels": list(labels), "intercepts": [round(float(value), DECIMALS) for value in intercepts]}
        columns.append(coefficients)
    weights = numpy.vstack(columns).T.round(DECIMALS)  # a row per feature, every field's labels side by side
    nonzero = weights.any(axis=1)
    return {
        "fields": fields,
        "features": [str(name) for name in names[nonzero]],
        "weights": [float(weight) for weight in weights[nonzero].ravel()],
    }


def _ensemble(field: str, matrix: Any, targets: list[str], labels: Sequence[str], c: float) -> tuple[Any, Any]:
    """One field's weights (label x feature) and intercepts: the sum of three linear models' scores, divided by a
    temperature, so the bot still runs a single dot product and softmax."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    naive_bayes_weight, svm_weight, temperature = ENSEMBLE[field]
    regression = LogisticRegression(C=c, class_weight=CLASS_WEIGHT, max_iter=5000).fit(matrix, targets)
    naive_bayes = ComplementNB(alpha=NB_ALPHA).fit(matrix, targets)
    svm = LinearSVC(C=SVM_C, class_weight=CLASS_WEIGHT).fit(_int32_indices(matrix), targets)

    def ordered(model: Any, rows: Any) -> Any:
        return rows[[list(model.classes_).index(name) for name in labels]]

    # Complement naive Bayes scores a message by a sum of per-feature log-weights, with no intercept; centred per
    # feature across the labels, which the softmax ignores, so its weights stay small.
    log_weights = ordered(naive_bayes, naive_bayes.feature_log_prob_)
    coefficients = (
        ordered(regression, regression.coef_)
        + naive_bayes_weight * (log_weights - log_weights.mean(axis=0))
        + svm_weight * ordered(svm, svm.coef_)
    ) / temperature
    intercepts = (ordered(regression, regression.intercept_) + svm_weight * ordered(svm, svm.intercept_)) / temperature
    return coefficients, intercepts


def _int32_indices(matrix: Any) -> Any:
    """liblinear (LinearSVC) refuses a sparse matrix with 64-bit indices, which DictVectorizer may build."""
    matrix = matrix.tocsr()
    matrix.indices = matrix.indices.astype("int32")
    matrix.indptr = matrix.indptr.astype("int32")
    return matrix


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
