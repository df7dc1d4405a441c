"""Every card the bot can produce, rendered by Microsoft's Adaptive Cards renderer in headless Chromium.

The renderer (npm adaptivecards@3.0.6) reports unknown elements, bad property values, duplicate ids,
missing labels and unsupported versions; a card must render without a single event. It misses a few
things Teams cares about, which are checked here on the JSON: version above 1.5, inputs without an id
or a label, TextBlocks without text, Action.OpenUrl without url, cards over MAX_CARD_BYTES.

Without Chromium or node_modules the tests are skipped locally and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from cards.common import MAX_CARD_BYTES, card_bytes
from tests.client.card_renderer import CardRenderer, Event, RenderResult, missing_prerequisites
from tests.support.sample_cards import sample_cards
from tests.unit.test_cards import ALL_CARDS

MAX_VERSION = (1, 5)  # the highest Teams renders

# Known false positive of the JS renderer, not of Teams: adaptivecards 3.0.6 wants at least one choice in
# every Input.ChoiceSet, but Teams' People Picker is documented exactly as `"choices": []` plus
# `"choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}`
# (learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/people-picker).
# One such event is forgiven per People Picker in the card, and no other event ever is.
PEOPLE_PICKER_EVENT = Event("Validation", "CollectionCantBeEmpty", "An Input.ChoiceSet must have at least one choice defined.")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
async def renderer() -> AsyncIterator[CardRenderer]:
    """One headless Chromium, with the renderer page loaded, for every card of the run."""
    missing = missing_prerequisites()
    if missing:
        reason = "cannot render Adaptive Cards: " + "; ".join(missing)
        if in_ci():
            pytest.fail(reason + " (CI=true: the renderer tests are never skipped in CI)")
        pytest.skip(reason)
    async with CardRenderer() as started:
        yield started


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every element, action and nested card in a card (fallbacks included: some clients show them)."""
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for key, value in node.items():
            if key != "msteams":  # Teams' own properties (mention entities are not card elements)
                yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def version_tuple(version: Any) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in str(version).split("."))
    except ValueError:
        return None


def structural_problems(card: dict[str, Any]) -> list[str]:
    """What Teams would mishandle and the renderer does not report."""
    problems = []
    size = card_bytes(card)
    if size > MAX_CARD_BYTES:
        problems.append(f"card is {size} bytes (UTF-16), over MAX_CARD_BYTES={MAX_CARD_BYTES}")
    if "version" not in card:
        problems.append("card has no version")
    for element in walk(card):
        kind = element["type"]
        if kind == "AdaptiveCard" and "version" in element:
            version = version_tuple(element["version"])
            if version is None or version > MAX_VERSION:
                problems.append(f"card version {element['version']!r} is above {'.'.join(map(str, MAX_VERSION))}")
        elif kind.startswith("Input."):
            if not element.get("id"):
                problems.append(f"{kind} without an id: {element.get('label')!r}")
            if not str(element.get("label", "")).strip():
                problems.append(f"{kind} {element.get('id')!r} has no label")
        elif kind == "TextBlock":
            if not str(element.get("text", "")).strip():
                problems.append(f"TextBlock without text: {element}")
        elif kind == "Action.OpenUrl":
            if not str(element.get("url", "")).strip():
                problems.append(f"Action.OpenUrl {element.get('title')!r} without url")
    return problems


def people_pickers(card: dict[str, Any]) -> int:
    return sum(
        1
        for element in walk(card)
        if element["type"] == "Input.ChoiceSet"
        and not element.get("choices")
        and isinstance(element.get("choices.data"), dict)
        and element["choices.data"].get("type") == "Data.Query"
        and str(element["choices.data"].get("dataset", "")).startswith("graph.microsoft.com/users")
    )


def renderer_problems(card: dict[str, Any], result: RenderResult) -> list[str]:
    forgiven = people_pickers(card)
    problems = []
    for event in result.events:
        if event == PEOPLE_PICKER_EVENT and forgiven:
            forgiven -= 1
            continue
        problems.append(f"renderer: {event}")
    if not result.rendered:
        problems.append("renderer: card.render() produced nothing")
    problems += [f"page: {error}" for error in result.page_errors]
    problems += [f"Action.ShowCard {check.title!r}: {check.why}" for check in result.show_cards if not check.opened]
    return problems


# Cards with a real problem in the card code go here, as
# pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="card name, element, renderer message")).
KNOWN_BROKEN: dict[str, str] = {}
CARD_PARAMS = [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BROKEN[name])) if name in KNOWN_BROKEN else name
    for name in ALL_CARDS
]


@pytest.mark.parametrize("name", CARD_PARAMS)
async def test_card_renders_without_a_single_problem(renderer: CardRenderer, name: str) -> None:
    card = ALL_CARDS[name]
    result = await renderer.render(card)
    problems = structural_problems(card) + renderer_problems(card, result)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
    assert not renderer.blocked, f"the page tried to reach the network: {renderer.blocked}"


# The checks themselves: each must catch what it is there for, or a green run means nothing.

BROKEN_CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.6",
    "body": [
        {"type": "Input.Text", "id": "a", "isRequired": True, "errorMessage": "Required."},
        {"type": "Input.Text", "label": "No id"},
        {"type": "TextBlock", "text": " "},
        {"type": "TextBlock", "text": "x", "size": "Huge"},
        {"type": "Input.ChoiceSet", "id": "plain", "label": "Plain", "choices": []},
        {"type": "Fancy.Element"},
    ],
    "actions": [{"type": "Action.OpenUrl", "title": "Nowhere"}, {"type": "Action.Bogus", "title": "?"}],
}


def test_structural_checks_catch_what_the_renderer_misses() -> None:
    problems = "\n".join(structural_problems(BROKEN_CARD))
    for expected in ("version '1.6'", "Input.Text without an id", "Input.Text 'a' has no label", "TextBlock without text",
                     "Action.OpenUrl 'Nowhere' without url"):
        assert expected in problems, problems
    huge = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x" * MAX_CARD_BYTES}]}
    assert any("over MAX_CARD_BYTES" in p for p in structural_problems(huge))
    assert structural_problems(ALL_CARDS["notice"]) == []


async def test_renderer_reports_bad_cards(renderer: CardRenderer) -> None:
    result = await renderer.render(BROKEN_CARD)
    kinds = {event.event for event in result.events}
    assert {"UnknownElementType", "UnknownActionType", "InvalidPropertyValue", "RequiredInputsShouldHaveLabel"} <= kinds, result.events
    # The People Picker allowance is exact: an empty ChoiceSet without Data.Query is still a problem.
    assert PEOPLE_PICKER_EVENT in result.validation_events
    assert f"renderer: {PEOPLE_PICKER_EVENT}" in renderer_problems(BROKEN_CARD, result)


async def test_markdown_execute_and_show_card_work_as_in_teams(renderer: CardRenderer) -> None:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "wrap": True,
                  "text": "**Bold**, *italic*, `code` and [a link](https://example.com/x) for <at>Omar</at>"}],
        "actions": [
            {"type": "Action.Execute", "title": "Go", "verb": "go", "data": {"n": 1}},
            {"type": "Action.ShowCard", "title": "More", "card": {
                "type": "AdaptiveCard",
                "body": [{"type": "Input.Text", "id": "note", "label": "Note"}],
                "actions": [{"type": "Action.ShowCard", "title": "Even more", "card": {
                    "type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Deep"}]}}],
            }},
        ],
    }
    result = await renderer.render(card, screenshot=True)
    assert result.events == [] and result.rendered and result.page_errors == []
    html = await renderer.inner_html()
    assert "<strong>Bold</strong>" in html and "<em>italic</em>" in html and "<code>code</code>" in html
    assert 'href="https://example.com/x"' in html and '<span class="mention">Omar</span>' in html
    assert "**" not in result.text and "<at>" not in result.text
    assert [(a.type, a.title) for a in result.actions] == [
        ("Action.Execute", "Go"), ("Action.ShowCard", "More"), ("Action.ShowCard", "Even more")]
    assert [(c.title, c.opened) for c in result.show_cards] == [("More", True), ("Even more", True)]
    assert result.png_bytes is not None and result.png_bytes.startswith(b"\x89PNG")
    await renderer.page.get_by_role("button", name="Go").click()
    assert await renderer.executed_actions() == [
        {"type": "Action.Execute", "title": "Go", "verb": "go", "data": {"n": 1}, "url": None}]


async def test_user_text_renders_exactly_as_written(renderer: CardRenderer) -> None:
    """The markdown check of tests/unit/test_user_text_in_cards.py, seen through the renderer: no link, no
    emphasis, no mention and no HTML comes out of what a user wrote, in any card."""
    phishing = "[Your session expired](https://evil.example/login)"
    hostile = f"{phishing} **loud** <at>CEO</at> <i>tag</i> "
    shown = []
    for name, card in sample_cards(lambda value: hostile + value, chart=False).items():
        result = await renderer.render(card, exercise_show_cards=False)
        html = await renderer.inner_html()
        assert "evil.example" not in "".join(re.findall(r'href="[^"]*"', html)), name
        assert "<strong>loud</strong>" not in html and ">CEO<" not in html and "<i>tag</i>" not in html, name
        if phishing in result.text:
            shown.append(name)
    assert len(shown) >= 30, shown  # and the text itself is there to read, literally, in nearly every card
