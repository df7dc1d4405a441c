"""Agreeing priorities on the stand-up's card: keep in hypercare, defer, change severity; the card is redrawn."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.chat.context import Chat, Clicked
from bot.chat.triage import side_effects
from bot.domain.events import Verb
from bot.domain.messages import CardActionResult
from bot.domain.model import Priority
from bot.domain.results import Applied, NotFound, Refused, Stale
from bot.domain.standup import decision_text
from bot.services.standup import redraw_standup
from bot.services.triage import triage_issue
from cards.issue_actions import IssueActionTarget, parse_command
from cards.notice import render_notice_card
from cards.standup import render_standup

NOT_A_DECISION = "This button is not one I know (the stand-up may be from an older version of the bot). `standup` shows today's."


def _since(data: dict[str, Any]) -> datetime | None | str:
    """The stand-up the redrawn card counts from (None: the first stand-up); a malformed value is refused."""
    raw = data.get("since")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    return moment if moment is not None and moment.tzinfo is not None else NOT_A_DECISION


def _is_date(value: object) -> bool:
    try:
        return isinstance(value, str) and date.fromisoformat(value) is not None
    except ValueError:
        return False


def _inputs(data: dict[str, Any], issue_id: int) -> dict[str, Any]:
    """The card's inputs are per item (`decide_severity_12`): read back as the command's own names."""
    values = dict(data)
    for name in ("decide_severity", "decide_reason"):
        values[name] = data.get(f"{name}_{issue_id}", "")
    return values


async def decide_at_standup(chat: Chat, clicked: Clicked) -> CardActionResult:
    """A decision on a "Needs a decision" item: applied (by a triage lead, on the issue as the card showed it), recorded
    with the stand-up's date, and the stand-up redrawn for everyone; a refusal or a stale click redraws it for the
    clicker alone, saying why."""
    data = clicked.action.data
    try:
        target = IssueActionTarget.model_validate(data)
    except ValueError:
        return CardActionResult(card=render_notice_card(NOT_A_DECISION))
    since = _since(data)
    if isinstance(since, str) or data.get("priority") not in {priority.value for priority in Priority} or not _is_date(data.get("standup_on")):
        return CardActionResult(card=render_notice_card(NOT_A_DECISION))
    command = parse_command(Verb.DECIDE, _inputs(data, target.issue_id))
    if isinstance(command, dict):  # the new severity missing, or the reason too long
        notice = "; ".join(command.values())
        result = None
    else:
        result = await triage_issue(
            uow=chat.uow(), now=chat.now(), conversation=clicked.action.conversation, actor=clicked.sender,
            issue_id=target.issue_id, card_version=target.version, command=command, admins=chat.admins,
        )
        notice = _notice(result)
    redrawn = await redraw_standup(uow=chat.uow(), now=chat.now(), conversation=clicked.action.conversation, since=since,
                                   told=data.get("told") is True)
    if redrawn is None:
        return CardActionResult(card=render_notice_card("There is no issue like that in this war room."))
    chart_id = data.get("chart_id") if isinstance(data.get("chart_id"), int) else None
    card = render_standup(
        redrawn.summary, chart_url=chat.chart_url(redrawn.war_room_id, chart_id) if chart_id else None, chart_id=chart_id,
        participants=redrawn.told, notice=notice,
    )
    if not isinstance(result, Applied):
        return CardActionResult(card=card)
    effects = await side_effects(chat, result, clicked_card=None)
    return CardActionResult(card=card, issue_id=result.subject.id, refresh_for_everyone=True, side_effects=tuple(effects))


def _notice(result: Applied[Any] | Refused[Any] | Stale[Any] | NotFound) -> str:
    match result:
        case Applied(subject=issue):
            return f"#{issue.number}: {decision_text(issue)}."
        case Stale(subject=issue, change=change):
            return f"#{issue.number} changed since this card was drawn{': ' + change if change else ''} Nothing was decided; this is the stand-up as it is now."
        case Refused(reason=reason) | NotFound(reason=reason):
            return reason
    raise AssertionError(f"unhandled result {result!r}")
