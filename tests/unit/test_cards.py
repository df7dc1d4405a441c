"""Card structure rules that Teams and the Adaptive Cards schema impose."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
import json
from typing import Any

import pytest

from bot.domain.model import DESCRIPTION_MAX, DOCUMENTS_MAX, Area, Category, Environment, Issue, IssueDraft, Person, Severity, Status
from cards.common import MAX_CARD_BYTES, card_bytes, card_time
from cards.help import render_help_card
from cards.issue_card import CARD_DESCRIPTION_MAX, render_issue_card
from cards.issue_form import IssueFormValues, IssueSubmission, render_issue_form, validate_issue_submission
from bot.domain.mentions import MENTIONS_PER_MESSAGE, NOTICE_MESSAGES_MAX
from cards.notice import render_notice_card, render_notices
from tests.support.factories import make_issue
from tests.support.war_room import card_text
from tests.support.sample_cards import sample_cards

HEAVY = "😀ü" * (DESCRIPTION_MAX // 2)


def elements(node: Any, *, with_fallbacks: bool = True) -> Iterator[dict[str, Any]]:
    """Every element and action in a card, depth first (a fallback stands in for its element, sharing its id)."""
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for key, value in node.items():
            if key != "fallback" or with_fallbacks:
                yield from elements(value, with_fallbacks=with_fallbacks)
    elif isinstance(node, list):
        for item in node:
            yield from elements(item, with_fallbacks=with_fallbacks)


ALL_CARDS = {
    "form": render_issue_form(IssueFormValues(), form_id="f" * 32),
    "form-with-errors": render_issue_form(
        IssueFormValues(severity="7", affected_users="many"),
        form_id="f" * 32,
        errors=validate_issue_submission({"form_id": "f" * 32, "severity": "7", "affected_users": "many"}),  # type: ignore[arg-type]
    ),
    "form-heavy": render_issue_form(IssueFormValues(title="x" * 120, description=HEAVY), form_id="f" * 32, notice="long"),
    "issue": render_issue_card(make_issue()),
    "issue-heavy": render_issue_card(make_issue(description=HEAVY, reporter=Person(aad_object_id=None, name="ü" * 200))),
    "issue-sev4": render_issue_card(make_issue(severity=Severity.SEV4, resolve_by=None, category=None, area=None, company=None)),
    "help": render_help_card(),
    "notice": render_notice_card("Hello"),
}
ALL_CARDS.update(sample_cards())


@pytest.mark.parametrize("name", ALL_CARDS)
def test_card_is_adaptive_1_5_and_small_enough(name: str) -> None:
    card = ALL_CARDS[name]
    assert card["type"] == "AdaptiveCard"
    assert tuple(int(p) for p in card["version"].split(".")) <= (1, 5)
    assert card_bytes(card) < MAX_CARD_BYTES


@pytest.mark.parametrize("name", ALL_CARDS)
def test_every_input_has_an_id_and_a_label_and_text_is_never_empty(name: str) -> None:
    for element in elements(ALL_CARDS[name]):
        if element["type"].startswith("Input."):
            assert element.get("id") and element.get("label"), element
            if element.get("isRequired"):
                assert element.get("errorMessage"), element
        if element["type"] in ("TextBlock", "TextRun"):
            assert element["text"].strip(), element
    ids = [element["id"] for element in elements(ALL_CARDS[name], with_fallbacks=False) if "id" in element]
    assert len(ids) == len(set(ids)), "duplicate element ids"


def test_form_is_prefilled_from_the_draft() -> None:
    draft = IssueDraft(
        title="AP is stuck", description="AP is stuck.", severity=Severity.SEV2, category=Category.DEFECT,
        area=Area.ACCOUNTS_PAYABLE, company="USMF", affected_users=4, environment=Environment.TEST, documents="PO-000482, 88123",
    )
    card = render_issue_form(IssueFormValues.from_draft(draft), form_id="abc12345")
    values = {e["id"]: e.get("value") for e in elements(card) if e["type"].startswith("Input.")}
    assert values == {
        "title": "AP is stuck", "description": "AP is stuck.", "severity": "2", "category": "defect",
        "area": "accounts_payable", "company": "USMF", "affected_users": 4, "environment": "test", "documents": "PO-000482, 88123",
    }
    assert "please choose" not in json.dumps(card) and "please_choose" not in card["actions"][0]["data"]


def test_severity_choices_say_what_each_severity_means() -> None:
    card = render_issue_form(IssueFormValues(), form_id="abc12345")
    [severity] = [e for e in elements(card) if e.get("id") == "severity"]
    titles = [choice["title"] for choice in severity["choices"]]
    assert titles[0] == "Sev 1 — work stopped, fix in hours"
    assert titles[3] == "Sev 4 — enhancement, after hypercare"
    assert severity["isRequired"] is True


def test_submit_is_execute_with_a_submit_fallback_carrying_the_same_form() -> None:
    [action] = render_issue_form(IssueFormValues(), form_id="abc12345")["actions"]
    assert (action["type"], action["verb"], action["data"]) == ("Action.Execute", "issue.create", {"form_id": "abc12345"})
    assert action["fallback"]["type"] == "Action.Submit"
    assert action["fallback"]["data"] == {"form_id": "abc12345", "verb": "issue.create"}


def test_invalid_values_are_kept_and_named() -> None:
    data = {"form_id": "abc12345", "title": "", "severity": "7", "affected_users": "many", "company": "USMF"}
    errors = validate_issue_submission(data)
    assert isinstance(errors, dict) and set(errors) == {"title", "severity", "affected_users"}
    card = render_issue_form(IssueFormValues.from_submitted(data), form_id="abc12345", errors=errors)
    text = str(card)
    assert "Please correct: Title, Severity, Affected users." in text
    assert "You entered: many" in text and "You entered: 7" in text
    assert [e.get("value") for e in elements(card) if e.get("id") == "company"] == ["USMF"]


def test_a_field_the_prefill_is_unsure_of_says_please_choose_and_is_required() -> None:
    draft = IssueDraft(title="Stuck", description="Stuck.", area=Area.TAX)
    card = render_issue_form(IssueFormValues.from_draft(draft, frozenset({"severity", "category"})), form_id="abc12345")
    by_id = {e["id"]: e for e in elements(card) if e["type"].startswith("Input.")}
    for field, label in (("severity", "Severity (please choose)"), ("category", "Category (please choose)")):
        assert (by_id[field]["label"], by_id[field]["value"], by_id[field]["isRequired"]) == (label, "", True)
        assert by_id[field]["placeholder"].startswith("Please choose") and "please choose" in by_id[field]["errorMessage"]
    # A confident guess is prefilled, optional as before.
    assert (by_id["area"]["label"], by_id["area"]["value"], by_id["area"].get("isRequired")) == ("D365 area", "tax", None)
    assert card["actions"][0]["data"]["please_choose"] == ["severity", "category"]


def test_a_please_choose_field_left_empty_is_refused_with_the_values_kept_until_picked() -> None:
    data = {"form_id": "abc12345", "title": "Stuck", "severity": "2", "category": "", "area": "tax", "company": "usmf",
            "environment": "test", "documents": "PO-1", "please_choose": ["category", "not-a-field"]}
    errors = validate_issue_submission(data)
    assert errors == {"category": "I could not tell what kind of problem it is from your message: please choose a category."}
    card = render_issue_form(IssueFormValues.from_submitted(data), form_id="abc12345", errors=errors)
    values = {e["id"]: e.get("value") for e in elements(card) if e["type"].startswith("Input.")}
    assert (values["title"], values["severity"], values["area"], values["environment"], values["documents"]) == (
        "Stuck", "2", "tax", "test", "PO-1")
    assert "Please correct: Category." in str(card) and card["actions"][0]["data"]["please_choose"] == ["category"]
    picked = validate_issue_submission(data | {"category": "data"})
    assert isinstance(picked, IssueSubmission) and picked.category is Category.DATA
    # Without the form's "please choose", an empty category is allowed as before.
    assert isinstance(validate_issue_submission(data | {"please_choose": None}), IssueSubmission)


def test_dynamics_details_are_checked_and_kept_on_one_line() -> None:
    base = {"form_id": "abc12345", "title": "Stuck", "severity": "2"}
    submitted = validate_issue_submission(base | {"environment": "production", "documents": " PO-1,\n  INV-2 "})
    assert isinstance(submitted, IssueSubmission)
    assert (submitted.environment, submitted.documents) == (Environment.PRODUCTION, "PO-1, INV-2")
    errors = validate_issue_submission(base | {"environment": "moon", "documents": "x" * (DOCUMENTS_MAX + 1)})
    assert isinstance(errors, dict) and set(errors) == {"environment", "documents"}


def test_valid_submission_is_typed() -> None:
    result = validate_issue_submission(
        {"form_id": "abc12345", "title": " Stuck ", "severity": "1", "category": "", "area": "tax",
         "company": "usmf", "affected_users": "3", "extra": "ignored"}
    )
    assert result == IssueSubmission(
        form_id="abc12345", title="Stuck", severity=Severity.SEV1, area=Area.TAX, company="USMF", affected_users=3
    )


def test_issue_card_shows_the_issue() -> None:
    card = render_issue_card(make_issue())
    text = str(card)
    for expected in ("#12 ", "AP cannot post vendor invoices", "Sev 1", "New", "Configuration / setup",
                     "Accounts payable", "USMF", "Priya Shah", "{{DATE(2026-11-23T09:05:00Z, SHORT)}}"):
        assert expected in text


def test_issue_card_shows_the_dynamics_details_when_known() -> None:
    text = str(render_issue_card(make_issue(environment=Environment.TEST, documents="PO-000482, APINV-004512")))
    assert "UAT / test" in text and "PO-000482, APINV-004512" in text
    assert "Environment" not in str(render_issue_card(make_issue())) and "Documents" not in str(render_issue_card(make_issue()))


def test_issue_card_truncates_long_descriptions() -> None:
    card = render_issue_card(make_issue(description="y" * 50_000))
    runs = [e["text"] for e in elements(card) if e["type"] == "TextRun" and e["text"].startswith("yyy")]
    assert len(runs[0]) == CARD_DESCRIPTION_MAX
    assert "full text is stored" in str(card)


def test_card_time_is_rendered_in_the_viewers_time_zone() -> None:
    assert card_time(datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) == "{{DATE(2026-03-29T00:30:00Z, SHORT)}} {{TIME(2026-03-29T00:30:00Z)}}"


def test_control_and_bidi_characters_are_removed_from_user_text() -> None:
    card = render_issue_card(make_issue(title="evil\u202etxt.exe\x07"))
    assert "evil" in str(card) and "\u202e" not in str(card) and "\x07" not in str(card)


def crowd(count: int, name: str = "Person") -> tuple[Person, ...]:
    return tuple(Person(aad_object_id=f"00000000-0000-0000-0000-{n:012d}", name=f"{n:04d} {name}") for n in range(count))


def mentioned_ids(card: dict[str, Any]) -> list[str]:
    return [entity["mentioned"]["id"] for entity in card.get("msteams", {}).get("entities", [])]


def test_a_notice_for_a_few_people_is_one_message_mentioning_each() -> None:
    [card] = render_notices("Resolved: #12 AP cannot post (Fixed).", notify=crowd(3), issue_number=12)
    assert len(mentioned_ids(card)) == 3 and "other" not in str(card["body"][-1]["text"])


def test_a_notice_for_a_crowd_is_a_few_bounded_messages_and_a_count() -> None:
    # The longest names a mention shows (display names are cut to 60 characters), in the widest UTF-16 characters.
    everyone = crowd(1001, name="😀ü" * 100)
    cards = render_notices("Resolved: #12 AP cannot post (Fixed).", notify=everyone, issue_number=12)
    assert len(cards) == NOTICE_MESSAGES_MAX
    assert "Resolved: #12" in card_text(cards[0]) and "Also for everyone following #12:" in card_text(cards[1])
    assert all(len(mentioned_ids(card)) == MENTIONS_PER_MESSAGE and card_bytes(card) < MAX_CARD_BYTES for card in cards)
    named = [id_ for card in cards for id_ in mentioned_ids(card)]
    assert named == [person.aad_object_id for person in everyone[: len(named)]]
    assert cards[-1]["body"][-1]["text"].endswith(f"and {1001 - len(named)} others who followed this issue.")
    assert "others" not in cards[0]["body"][-1]["text"]


def test_one_person_left_out_is_one_other() -> None:
    cards = render_notices("Resolved.", notify=crowd(MENTIONS_PER_MESSAGE * NOTICE_MESSAGES_MAX + 1), issue_number=12)
    assert cards[-1]["body"][-1]["text"].endswith("and 1 other who followed this issue.")
