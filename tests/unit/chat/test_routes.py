"""bot/chat/routes.py: every command and every button the cards can send has a handler; an unknown button is told so."""

from __future__ import annotations

import typing

import pytest

from bot.chat import intake, knowledge, phase, priorities, signoff, triage, views
from bot.chat.routes import CARD_VERBS, COMMANDS
from bot.domain.commands import ChatCommand
from bot.domain.events import Verb
from cards.issue_card import VIEW_VERB
from cards.issue_form import CREATE_VERB
from cards.phase import SETUP_VERB, SIGN_OFF_VERB, WITHDRAW_VERB
from cards.reminders import SNOOZE_VERB
from cards.runbooks import CREATE_RUNBOOK_VERB, UPDATE_RUNBOOK_VERB
from cards.standup import DECIDE_VERB
from cards.signoff import BROKEN_VERB, CONFIRM_VERB, FIXED_VERB, REOPEN_VERB
from tests.support.chat import Bot, text, verbs
from tests.support.sample_cards import sample_cards


def test_every_chat_command_has_a_route_and_nothing_else_does() -> None:
    assert set(COMMANDS) == set(typing.get_args(ChatCommand))


def test_every_button_on_every_card_is_routed() -> None:
    sent = set().union(*(verbs(card) for card in sample_cards(chart=False).values()))

    assert sent - set(CARD_VERBS) == set()
    assert {CREATE_VERB, SETUP_VERB, SIGN_OFF_VERB, WITHDRAW_VERB, SNOOZE_VERB, "issue.ack", "issue.resolve"} <= sent


@pytest.mark.parametrize(
    ("verb", "handler"),
    [
        (CREATE_VERB, intake.submit_issue_form),
        (SETUP_VERB, phase.save_setup),
        (SIGN_OFF_VERB, phase.sign),
        (WITHDRAW_VERB, phase.withdraw),
        (CREATE_RUNBOOK_VERB, knowledge.save_new),
        (UPDATE_RUNBOOK_VERB, knowledge.save_edit),
        (SNOOZE_VERB, triage.snooze),
        (VIEW_VERB, views.own_view),
        (DECIDE_VERB, priorities.decide_at_standup),
        (FIXED_VERB, signoff.answer_question),
        (BROKEN_VERB, signoff.answer_question),
        (CONFIRM_VERB, signoff.sign_off_on_standup),
        (REOPEN_VERB, signoff.sign_off_on_standup),
        *[(f"issue.{verb.value}", triage.press_issue_button) for verb in Verb if verb is not Verb.DECIDE],
    ],
)
def test_each_card_verb_goes_to_its_handler(verb: str, handler: object) -> None:
    assert CARD_VERBS[verb] is handler


@pytest.mark.parametrize("verb", ["issue.explode", "issue.decide", "runbook.delete", "", None])
async def test_a_button_not_known_gets_a_notice_saying_so(bot: Bot, verb: str | None) -> None:
    result = await bot.press(verb, {"issue_id": 1, "version": 1})

    assert "This button is not one I know" in text(result.card) and result.issue_id is None and not result.refresh_for_everyone
