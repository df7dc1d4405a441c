"""Issues in the chat and on their cards: list, show, history, acknowledge, assign, resolve, every card button, snooze."""

from __future__ import annotations

from bot.chat.context import Chat, Clicked, Said
from bot.domain.commands import AcknowledgeIssue, AssignIssue, ListIssues, ResolveIssue, ShowHistory, ShowIssue
from bot.domain.messages import Card, CardActionResult, ConversationRef, Outbound, PostCard, ReplyCard, UpdateCard
from bot.domain.model import Issue, IssueQuery, Person, ResolutionType
from bot.domain.reminders import SNOOZE_PERIOD
from bot.domain.results import Applied, NotFound, Refused, Stale, TriageResult
from bot.domain.events import Verb
from bot.domain.triage import Acknowledge, AddUpdate, Assign, Resolve, TriageCommand
from bot.services.triage import find_issue, issue_history, list_issues, snooze_reminders, triage_issue
from cards.common import card_time
from cards.issue_actions import FIELD_INPUTS, INPUTS, AssignRequest, IssueActionTarget, parse_command, parse_verb
from bot.chat.views import issue_card
from cards.issue_card import Panel
from cards.lists import render_history, render_issue_list
from cards.notice import render_announcement, render_notice_card, render_notices
from cards.signoff import render_fixed_question

UNKNOWN_BUTTON = (
    "This button is not one I know (the card may be from an older version of the bot). "
    "Mention me with your problem to get a fresh issue form, or `show #N` for an issue's card."
)


async def list_(chat: Chat, command: ListIssues, said: Said) -> list[Outbound]:
    now = chat.now()
    query = IssueQuery(
        statuses=command.statuses or IssueQuery().statuses,
        severity=command.severity,
        assignee_id=(said.sender.aad_object_id or "") if command.mine else None,
        unassigned=command.unassigned,
        breached=command.breached,
    )
    issues, total = await list_issues(uow=chat.uow(), now=now, conversation=said.message.conversation, query=query)
    title = "Issues" + (f" ({', '.join(command.filters)})" if command.filters else " open now")
    hint = "Narrow it down with `list sev1`, `list mine` or `list unassigned`."
    card = render_issue_list(title, issues, total, now=now, hint=hint, tenant_id=said.message.conversation.tenant_id)
    return [ReplyCard(card=card)]


async def show(chat: Chat, command: ShowIssue, said: Said) -> list[Outbound]:
    issue = await find_issue(uow=chat.uow(), conversation=said.message.conversation, number=command.number)
    return [ReplyCard(card=await issue_card(chat, issue) if issue else _no_such_issue(command.number))]


async def history(chat: Chat, command: ShowHistory, said: Said) -> list[Outbound]:
    found = await issue_history(uow=chat.uow(), conversation=said.message.conversation, number=command.number)
    return [ReplyCard(card=render_history(*found) if found else _no_such_issue(command.number))]


async def acknowledge(chat: Chat, command: AcknowledgeIssue, said: Said) -> list[Outbound]:
    result = await _triage(chat, said.message.conversation, said.sender, Acknowledge(), number=command.number)
    return await _command_answer(chat, result, f"#{command.number} acknowledged.")


async def assign(chat: Chat, command: AssignIssue, said: Said) -> list[Outbound]:
    person = await said.mentioned_person()
    if person is None:
        return [ReplyCard(card=render_notice_card(f"Mention who should take it: `assign #{command.number} @person`."))]
    result = await _triage(chat, said.message.conversation, said.sender, Assign(assignee=person), number=command.number)
    return await _command_answer(chat, result, f"#{command.number} assigned to {person.name}.")


async def resolve(chat: Chat, command: ResolveIssue, said: Said) -> list[Outbound]:
    resolution = Resolve(notes=command.notes[:4000], resolution_type=ResolutionType.FIXED)
    result = await _triage(chat, said.message.conversation, said.sender, resolution, number=command.number)
    return await _command_answer(chat, result, f"#{command.number} resolved.")


async def add_thread_update(chat: Chat, issue: Issue, said: Said) -> list[Outbound]:
    """A reply in an issue's thread is news about that issue, not a new issue."""
    update = AddUpdate(text=said.message.text[:2000])
    result = await _triage(chat, said.message.conversation, said.sender, update, issue_id=issue.id)
    return await _command_answer(chat, result, f"Added to #{issue.number} as an update.")


async def press_issue_button(chat: Chat, clicked: Clicked) -> CardActionResult:
    """A triage button on an issue's card: the card again, changed, with the reason, or with the inputs to fix."""
    action = clicked.action
    target = _target(clicked)
    verb = parse_verb(action.verb)
    if verb is None or target is None:
        return CardActionResult(card=render_notice_card(UNKNOWN_BUTTON))
    parsed = parse_command(verb, action.data)
    if isinstance(parsed, AssignRequest):
        parsed = await _assignee(parsed, clicked)
    if isinstance(parsed, dict):
        return await _panel(chat, clicked, target, verb, parsed)
    result = await _triage(chat, action.conversation, clicked.sender, parsed, issue_id=target.issue_id, card_version=target.version)
    if isinstance(result, Refused) and result.field and result.subject is not None:
        # Refused for one input (not who may act): the inputs again, as typed, the reason under that one.
        panel = Panel(verb=verb, values=_typed(clicked, verb), errors={FIELD_INPUTS[verb][result.field]: result.reason})
        return CardActionResult(card=await issue_card(chat, result.subject, panel=panel), issue_id=result.subject.id)
    return await card_answer(chat, result, clicked)


async def snooze(chat: Chat, clicked: Clicked) -> CardActionResult:
    target = _target(clicked)
    if target is None:
        return CardActionResult(card=render_notice_card(UNKNOWN_BUTTON))
    now = chat.now()
    result = await snooze_reminders(
        uow=chat.uow(), now=now, conversation=clicked.action.conversation, actor=clicked.sender, issue_id=target.issue_id,
        period=SNOOZE_PERIOD, admins=chat.admins,
    )
    match result:
        case Applied(subject=issue):
            text = f"Reminders for #{issue.number} snoozed until {card_time(now + SNOOZE_PERIOD)} by {clicked.sender.name}."
            return CardActionResult(card=render_notice_card(text), refresh_for_everyone=True)
        case Refused(reason=reason) | NotFound(reason=reason):
            return CardActionResult(card=render_notice_card(reason))
    raise AssertionError(f"unhandled result {result!r}")


async def _assignee(request: AssignRequest, clicked: Clicked) -> Assign | dict[str, str]:
    person = await clicked.directory.person(request.person) or await clicked.directory.search(request.person)
    if person is None:
        return {"assign_person": "I could not find exactly one person by that; try their full name or email."}
    return Assign(assignee=person)


async def _panel(chat: Chat, clicked: Clicked, target: IssueActionTarget, verb: Verb, errors: dict[str, str]) -> CardActionResult:
    """The card again, the action's inputs open with what the user typed and what is wrong."""
    found = await find_issue(uow=chat.uow(), conversation=clicked.action.conversation, issue_id=target.issue_id)
    if found is None:
        return CardActionResult(card=render_notice_card("There is no issue like that in this war room."))
    panel = Panel(verb=verb, values=_typed(clicked, verb), errors=errors)
    return CardActionResult(card=await issue_card(chat, found, panel=panel))


async def card_answer(chat: Chat, result: TriageResult, clicked: Clicked) -> CardActionResult:
    match result:
        case Applied(subject=issue):
            return CardActionResult(
                card=await issue_card(chat, issue),
                issue_id=issue.id,
                refresh_for_everyone=True,
                side_effects=tuple(await side_effects(chat, result, clicked_card=clicked.action.card_activity_id)),
            )
        case Refused(subject=Issue() as issue, reason=reason):
            return CardActionResult(card=await issue_card(chat, issue, notice=reason), issue_id=issue.id)
        case Stale(subject=issue, change=change):
            notice = f"{change} This is the card as it is now." if change else None
            return CardActionResult(card=await issue_card(chat, issue, notice=notice), issue_id=issue.id)
        case Refused(reason=reason) | NotFound(reason=reason):
            return CardActionResult(card=render_notice_card(reason))
    raise AssertionError(f"unhandled result {result!r}")


async def _command_answer(chat: Chat, result: TriageResult, done: str) -> list[Outbound]:
    """A command's reply in the chat, plus the issue card refreshed where it is shown."""
    match result:
        case Applied():
            return [ReplyCard(card=render_announcement(done)), *await side_effects(chat, result, clicked_card=None)]
        case Refused(reason=reason) | NotFound(reason=reason):
            return [ReplyCard(card=render_notice_card(reason))]
        case Stale(subject=issue):
            return [ReplyCard(card=await issue_card(chat, issue))]
    raise AssertionError(f"unhandled result {result!r}")


async def side_effects(chat: Chat, result: Applied[Issue], *, clicked_card: str | None) -> list[UpdateCard | PostCard]:
    """Every other place that must show the change: the issue's own card, duplicates' targets, its thread."""
    effects: list[UpdateCard | PostCard] = []
    for issue in (result.subject, *result.also_changed):
        if issue.card_activity_id and issue.card_activity_id != clicked_card:
            card = await issue_card(chat, issue)
            effects.append(UpdateCard(conversation_id=issue.conversation_id, activity_id=issue.card_activity_id, card=card))
    issue = result.subject
    if result.announcement:
        effects.append(PostCard(conversation_id=issue.conversation_id, card=render_announcement(result.announcement)))
    if result.notice:
        notices = render_notices(result.notice, notify=result.notify, issue_number=issue.number)
        effects += [PostCard(conversation_id=issue.conversation_id, card=card) for card in notices]
    if issue.awaiting_confirmation and result.event is not None and result.event.verb == Verb.RESOLVE.value:
        # The reporter is asked, in the thread, whether it is fixed for them.
        effects.append(PostCard(conversation_id=issue.conversation_id, card=render_fixed_question(issue)))
    return effects


async def _triage(
    chat: Chat, conversation: ConversationRef, actor: Person, command: TriageCommand, *, issue_id: int | None = None,
    number: int | None = None, card_version: int | None = None,
) -> TriageResult:
    return await triage_issue(
        uow=chat.uow(), now=chat.now(), conversation=conversation, actor=actor, issue_id=issue_id, number=number,
        card_version=card_version, command=command, admins=chat.admins,
    )


def _target(clicked: Clicked) -> IssueActionTarget | None:
    try:
        return IssueActionTarget.model_validate(clicked.action.data)
    except ValueError:
        return None


def _typed(clicked: Clicked, verb: Verb) -> dict[str, str]:
    """What was typed into an action's inputs, to show them again."""
    return {key: str(clicked.action.data.get(key, "")) for key in INPUTS.get(verb, ())}


def _no_such_issue(number: int) -> Card:
    return render_notice_card(f"There is no issue #{number} in this war room. `list` shows the open ones.")
