"""User text in every card and notice is shown as written: never read as markdown, HTML or a mention.

The invariant is `tests.support.markdown.user_text_problems`: every value a user could have written goes
into every card of `sample_cards` with a marker, and the marker may appear in a TextBlock or a fact only as
the name of an entity-backed @mention, with its markup characters removed.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.markdown import plain_runs, user_text_problems
from tests.support.sample_cards import sample_cards

MARKER = "Zq9"
HOSTILE_PARTS = [
    "[Your session expired](https://evil.example/login)", "[x](javascript:alert(1))", "https://evil.example/login",
    "**bold**", "_italic_", "`code`", "~~gone~~", "<at>CEO</at>", "<b>html</b>", "<script>alert(1)</script>", "&lt;at&gt;",
    "\n\n# Heading", "\n- item", "\n1. first", "| a | b |", "> quote", "\\", "{{DATE(2026-01-01T00:00:00Z, SHORT)}}", "😀",
]
# Cards that show no user text, or only as the values of their inputs.
# Cards with no user-written text on them: our own words only (a follow-up notice, the too-large note), or inputs.
NO_USER_TEXT_SHOWN = {
    "setup", "setup-band-warning", "setup-no-end", "runbook-form", "runbook-form-errors", "list-empty", "form-prefilled", "notice-1000-followers-last", "too-large", "floor-empty",
    # War room names only in a ChoiceSet's choices (plain text); the personal welcome of someone in no war room.
    "form-war-room-choice", "welcome-personal-none",
}

hostile_text = st.lists(st.sampled_from(HOSTILE_PARTS) | st.text(min_size=1, max_size=8), min_size=1, max_size=4).map(
    lambda parts: MARKER + "".join(parts)
)


def test_realistic_user_text_never_reaches_markdown_either() -> None:
    cards = sample_cards(lambda value: MARKER + value, chart=False)
    problems = {name: user_text_problems(card, MARKER) for name, card in cards.items()}
    assert {name: found for name, found in problems.items() if found} == {}


@settings(max_examples=60, deadline=None)
@given(hostile=hostile_text)
def test_hostile_user_text_is_plain_in_every_card_and_notice(hostile: str) -> None:
    cards = sample_cards(lambda value: hostile + value, chart=False)
    problems = {name: user_text_problems(card, MARKER) for name, card in cards.items()}
    assert {name: found for name, found in problems.items() if found} == {}
    # And the check is not vacuous: every card that shows user text shows it as a TextRun.
    assert {name for name, card in cards.items() if not any(MARKER in run for run in plain_runs(card))} == NO_USER_TEXT_SHOWN
