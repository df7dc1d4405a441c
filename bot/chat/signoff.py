"""Signing off resolutions: the reporter's "Fixed for me / Still broken" in the issue's thread, and Confirm / Reopen on
the stand-up. Each is a triage command (bot/services/triage.py checks who, the card's version and the status); the
answer is the card that was clicked, redrawn as things now stand."""

from __future__ import annotations

from bot.chat.context import Chat, Clicked
from bot.chat.triage import UNKNOWN_BUTTON, side_effects
from bot.domain.events import Verb
from bot.domain.messages import CardActionResult
from bot.domain.model import Issue
from bot.domain.results import Applied, NotFound, Refused, Stale, TriageResult
from bot.domain.triage import TriageCommand
from bot.services.charts import keep_chart
from bot.services.standup import redraw_standup
from bot.services.triage import find_issue, triage_issue
from cards.issue_actions import parse_command
from cards.notice import render_notice_card
from cards.signoff import BROKEN_INPUT, CONFIRM_VERB, FIXED_VERB, SignOffPanel, SignOffTarget, reopen_input, render_fixed_question
from cards.standup import render_standup


def _target(clicked: Clicked) -> SignOffTarget | None:
    try:
        return SignOffTarget.model_validate(clicked.action.data)
    except ValueError:
        return None


async def _run(chat: Chat, clicked: Clicked, target: SignOffTarget, command: TriageCommand) -> TriageResult:
    return await triage_issue(
        uow=chat.uow(), now=chat.now(), conversation=clicked.action.conversation, actor=clicked.sender, issue_id=target.issue_id,
        card_version=target.version, command=command, admins=chat.admins,
    )


async def answer_question(chat: Chat, clicked: Clicked) -> CardActionResult:
    """"Fixed for me" closes the issue; "Still broken" reopens it with the words typed (required)."""
    target = _target(clicked)
    if target is None:
        return CardActionResult(card=render_notice_card(UNKNOWN_BUTTON))
    verb = Verb.CONFIRM if clicked.action.verb == FIXED_VERB else Verb.STILL_BROKEN
    typed = clicked.text(BROKEN_INPUT)
    parsed = parse_command(verb, clicked.action.data)
    if isinstance(parsed, dict):  # no words, or too many: the question again, the input open as typed
        issue = await find_issue(uow=chat.uow(), conversation=clicked.action.conversation, issue_id=target.issue_id)
        if issue is None:
            return CardActionResult(card=render_notice_card("There is no issue like that in this war room."))
        return CardActionResult(card=render_fixed_question(issue, typed=typed, error=parsed[BROKEN_INPUT]))
    assert not isinstance(parsed, dict)
    result = await _run(chat, clicked, target, parsed)  # type: ignore[arg-type]
    match result:
        case Applied(subject=issue):
            return CardActionResult(card=render_fixed_question(issue), refresh_for_everyone=True,
                                    side_effects=tuple(await side_effects(chat, result, clicked_card=None)))
        case Refused(subject=Issue() as issue, reason=reason, field=field):
            if field:
                return CardActionResult(card=render_fixed_question(issue, typed=typed, error=reason))
            return CardActionResult(card=render_fixed_question(issue, notice=reason))
        case Stale(subject=issue, change=change):
            return CardActionResult(card=render_fixed_question(issue, notice=f"{change} This is where it stands now." if change else None))
        case Refused(reason=reason) | NotFound(reason=reason):
            return CardActionResult(card=render_notice_card(reason))
    raise AssertionError(f"unhandled result {result!r}")


async def sign_off_on_standup(chat: Chat, clicked: Clicked) -> CardActionResult:
    """The stand-up's Confirm (closed) and Reopen (with a reason), for a triage lead or key user."""
    target = _target(clicked)
    if target is None:
        return CardActionResult(card=render_notice_card(UNKNOWN_BUTTON))
    verb = Verb.CONFIRM if clicked.action.verb == CONFIRM_VERB else Verb.STILL_BROKEN
    typed = clicked.text(reopen_input(target.issue_id))
    parsed = parse_command(verb, {BROKEN_INPUT: typed})
    if isinstance(parsed, dict):
        panel = SignOffPanel(issue_id=target.issue_id, value=typed, error=parsed[BROKEN_INPUT])
        return await _standup_answer(chat, clicked, target, panel=panel)
    result = await _run(chat, clicked, target, parsed)  # type: ignore[arg-type]
    match result:
        case Applied(subject=issue):
            done = f"#{issue.number} confirmed fixed and closed by {clicked.sender.name}." if verb is Verb.CONFIRM else \
                f"#{issue.number} reopened by {clicked.sender.name}."
            answer = await _standup_answer(chat, clicked, target, notice=done)
            return answer.model_copy(update={"refresh_for_everyone": True, "side_effects": tuple(await side_effects(chat, result, clicked_card=None))})
        case Refused(reason=reason, field=field) if field:
            return await _standup_answer(chat, clicked, target, panel=SignOffPanel(issue_id=target.issue_id, value=typed, error=reason))
        case Refused(subject=Issue(), reason=reason):
            return await _standup_answer(chat, clicked, target, notice=reason)
        case Stale(change=change):
            return await _standup_answer(chat, clicked, target, notice=f"{change} This is the stand-up as it is now." if change else None)
        case Refused(reason=reason) | NotFound(reason=reason):
            return CardActionResult(card=render_notice_card(reason))
    raise AssertionError(f"unhandled result {result!r}")


async def _standup_answer(
    chat: Chat, clicked: Clicked, target: SignOffTarget, *, notice: str | None = None, panel: SignOffPanel | None = None
) -> CardActionResult:
    """The stand-up the button was on, redrawn as of now (its own "since" and chart), with what happened."""
    now = chat.now()
    conversation = clicked.action.conversation
    redrawn = await redraw_standup(uow=chat.uow(), now=now, conversation=conversation, since=target.since)
    if redrawn is None:
        return CardActionResult(card=render_notice_card("There is no issue like that in this war room."))
    war_room_id = redrawn.war_room_id
    # The stand-up's own chart, as a decision's redraw shows it: keeping it again would read the whole war room a second
    # time per click. A stand-up posted before its buttons carried the chart gets one as of now.
    chart_id = target.chart_id if target.chart_id is not None else await keep_chart(uow=chat.uow(), now=now, war_room_id=war_room_id)
    card = render_standup(redrawn.summary, chart_url=chat.chart_url(war_room_id, chart_id), chart_id=chart_id, notice=notice, signoff_panel=panel)
    return CardActionResult(card=card)
