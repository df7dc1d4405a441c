"""The prefill: explicit markers as rules, a learned model for severity, category and area, confidence, and a war
room's memory. The figures on the shipped test split and stream are checked here too (`make test`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bot.domain.model import Area, Category, Environment, Severity
from bot.domain.prefill import LabelledExample, Prefiller
from bot.domain.prefill_evaluation import Scores, StreamScores, evaluate, evaluate_stream, read_labelled
from bot.domain.prefill_model import DEFAULT_MODEL_PATH, ModelError, load_model

CORPUS = Path(__file__).resolve().parents[2] / "bot" / "domain" / "corpus"

# The issue's goals on messages the parser was not built from (issue 15), and what the shipped model reaches
# (docs/parser.md, measured once after the last retraining). A goal not met yet is a strict xfail naming the
# figure: `make test` stays green, the gap stays visible, and the test fails the day the goal is met (raise it).
GOALS = {"severity": 0.90, "category": 0.85, "area": 0.90}
MEASURED = {"severity": 0.932, "category": 0.888, "area": 0.857}
SEV1_RECALL_GOAL = 0.95
STREAM_GOALS = {"category": 0.90, "area": 0.95}
STREAM_MEASURED = {"category": 0.800, "area": 0.950}


def goal(name: str, goals: dict[str, float], measured: dict[str, float], where: str) -> object:
    if measured[name] >= goals[name]:
        return name
    reason = f"{where} {name}: measured {measured[name]:.1%}, goal {goals[name]:.0%}"
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(scope="module")
def prefiller() -> Prefiller:
    return Prefiller()


def test_the_shipped_model_was_trained_on_the_shipped_training_split() -> None:
    digest = hashlib.sha256((CORPUS / "train.jsonl").read_bytes()).hexdigest()
    assert load_model().corpus_sha256 == digest, "retrain: python -m bot.parser_training (docs/parser.md)"


def test_the_test_split_and_the_streams_share_no_message_with_the_training_split() -> None:
    train = {row.text.casefold() for row in read_labelled(CORPUS / "train.jsonl")}
    for held_out in ("test.jsonl", "stream-test.jsonl", "stream-dev.jsonl"):
        assert not [row.text for row in read_labelled(CORPUS / held_out) if row.text.casefold() in train]


def test_the_corpus_covers_every_category_and_area_with_enough_messages() -> None:
    rows = read_labelled(CORPUS / "train.jsonl")
    assert len(rows) >= 1500
    assert {row.category for row in rows} == {category.value for category in Category}
    assert {row.area for row in rows} == {area.value for area in Area}


@pytest.fixture(scope="module")
def test_split(prefiller: Prefiller) -> Scores:
    return evaluate(prefiller, read_labelled(CORPUS / "test.jsonl"))


@pytest.fixture(scope="module")
def stream(prefiller: Prefiller) -> StreamScores:
    return evaluate_stream(prefiller, read_labelled(CORPUS / "stream-test.jsonl"))


@pytest.mark.parametrize("name", [goal(name, GOALS, MEASURED, "test split") for name in GOALS])
def test_the_test_split_meets_the_goal(test_split: Scores, name: str) -> None:
    assert test_split.fields[name].accuracy >= GOALS[name], test_split.text()


def test_sev1_recall_on_the_test_split_meets_the_goal(test_split: Scores) -> None:
    assert test_split.sev1_recall >= SEV1_RECALL_GOAL, test_split.text()


def test_the_figures_are_the_ones_documented(test_split: Scores, stream: StreamScores) -> None:
    """Below a goal or not, a change that moves the prefill's figures fails here until MEASURED and docs/parser.md say so."""
    assert {name: round(test_split.fields[name].accuracy, 3) for name in MEASURED} == MEASURED, test_split.text()
    assert {name: round(stream.learned.fields[name].accuracy, 3) for name in STREAM_MEASURED} == STREAM_MEASURED


@pytest.mark.parametrize("name", [goal(name, STREAM_GOALS, STREAM_MEASURED, "war-room stream") for name in STREAM_GOALS])
def test_a_war_room_stream_meets_the_goal(stream: StreamScores, name: str) -> None:
    assert stream.seen >= 80
    assert stream.learned.fields[name].accuracy >= STREAM_GOALS[name]


def test_a_war_room_stream_is_learned(stream: StreamScores) -> None:
    assert stream.learned.fields["area"].accuracy >= stream.cold.fields["area"].accuracy + 0.2
    assert stream.learned.fields["category"].accuracy > stream.cold.fields["category"].accuracy
    assert stream.learned.sev1_recall >= SEV1_RECALL_GOAL


def test_an_explicit_marker_decides_the_severity_whatever_the_model_thinks(prefiller: Prefiller) -> None:
    assert prefiller.prefill("P3 - nobody can post anything, the whole company is down").draft.severity is Severity.SEV3
    assert prefiller.prefill("sev1: the invoice layout has a typo").draft.severity is Severity.SEV1
    # A negated marker is no marker: the model reads the rest.
    assert prefiller.prefill("not a sev1, the vendor name on the print is cut off, cosmetic").draft.severity is not Severity.SEV1


def test_impact_without_a_severity_word_is_a_sev1(prefiller: Prefiller) -> None:
    for text in ("expense reports can't be submitted at all", "everything is down in the warehouse"):
        prefill = prefiller.prefill(text)
        assert prefill.draft.severity is Severity.SEV1 or "severity" in prefill.unsure


def test_what_the_model_is_unsure_of_is_left_to_choose(prefiller: Prefiller) -> None:
    prefill = prefiller.prefill("hello?")
    assert prefill.unsure == {"severity", "category", "area"}
    assert (prefill.draft.severity, prefill.draft.category, prefill.draft.area) == (None, None, None)
    confident = prefiller.prefill("sev2 - vendor invoice posting fails with 'posting profile missing', we post by journal")
    assert confident.unsure == frozenset()
    assert (confident.draft.area, confident.draft.severity) == (Area.ACCOUNTS_PAYABLE, Severity.SEV2)


def test_a_war_rooms_own_names_are_learned_from_its_confirmed_issues(prefiller: Prefiller) -> None:
    text = "the Quokka boxes keep rebooting"
    assert prefiller.prefill(text).draft.area is not Area.WAREHOUSE
    memory = [
        LabelledExample("Quokka boxes won't scan the pallets", None, Category.DEFECT, Area.WAREHOUSE),
        LabelledExample("new pickers can't log into the Quokka boxes", None, Category.ACCESS, Area.WAREHOUSE),
        LabelledExample("Quokka boxes slow in aisle 7", Severity.SEV3, Category.PERFORMANCE, Area.WAREHOUSE),
    ]
    assert prefiller.prefill(text, memory).draft.area is Area.WAREHOUSE
    # Another war room's memory is another argument: without it, nothing was learned.
    assert prefiller.prefill(text).draft.area is not Area.WAREHOUSE


def test_dynamics_details_are_read_from_the_text(prefiller: Prefiller) -> None:
    draft = prefiller.prefill("UAT: PO-000482 and invoice 88123 stuck in review, voucher APINV-004512 in company DEMF").draft
    assert draft.environment is Environment.TEST
    assert draft.documents == "PO-000482, 88123, APINV-004512"
    assert draft.company == "DEMF"
    assert prefiller.prefill("production order P-000812 can't be ended").draft.environment is None
    assert prefiller.prefill("in prod the journal fails, MT940 import AADSTS50011").draft.environment is Environment.PRODUCTION
    assert prefiller.prefill("in prod the journal fails, MT940 import AADSTS50011").draft.documents is None
    assert prefiller.prefill("the sandbox still points to the production bank").draft.environment is Environment.SANDBOX


def test_a_broken_model_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "model.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match="model.json: the model file is not JSON"):
        load_model(broken)
    data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    data["fields"]["area"]["labels"] = ["tax"]
    broken.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="not a prefill model of this version"):
        load_model(broken)
    data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    data["weights"].pop()  # the flat list no longer holds a row per feature
    broken.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="weights for .* features of 29 labels"):
        load_model(broken)
