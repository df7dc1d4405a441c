"""What the bot answers: a user's message or card action in, the cards to show out.

Channel-neutral: `bot/teams` turns activities into the inbound messages used here and delivers
the answers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.domain.commands import NewRunbook as NewRunbookCommand
from bot.domain.commands import (
    AcknowledgeIssue,
    ExtendPhase,
    SearchRunbooks,
    ShowExit,
    ShowStatus,
    ShowSetup,
    PostStandup,
    SetOnCall,
    SetRota,
    ShowOnCall,
    AssignIssue,
    ChatCommand,
    CommandError,
    ListIssues,
    MAX_MENTIONS,
    ManageRoles,
    ReportIssue,
    ResolveIssue,
    ShowHelp,
    ShowHistory,
    ShowIssue,
    parse_command,
)
from bot.domain.model import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    Area,
    Category,
    Issue,
    IssueDraft,
    IssueQuery,
    Person,
    ResolutionType,
    Suggestion,
)
from bot.domain.parsing import Vocabulary, parse_issue_draft
from bot.domain.ports import UnitOfWork
from bot.domain.reminders import SNOOZE_PERIOD
from bot.domain.results import Applied, NotFound, Refused, Stale, TriageResult
from bot.domain.triage import Acknowledge, AddUpdate, Assign, Resolve, TriageCommand, Verb
from bot.messages import (
    Card,
    CardActionResult,
    ConversationRef,
    InboundCardAction,
    InboundMessage,
    Outbound,
    PostCard,
    ReplyCard,
    SourceMessage,
    UpdateCard,
)
from bot.services.intake import (
    Received,
    WarRoomClosed,
    finish_activity,
    receive_message,
    record_contact,
    release_activity,
    report_issue,
)
from bot.services.knowledge import edit_runbook, find_runbooks, write_runbook
from bot.services.oncall import change_oncall, oncall_refusal, show_oncall
from bot.services.outbox import enqueue_message
from bot.services.phase import configure, extend, phase_figures, phase_view, sign_off, withdraw_sign_off
from bot.services.roles import change_role, list_roles
from bot.services.standup import standup_for, war_room_of
from bot.services.triage import attach_card, find_issue, issue_history, list_issues, snooze_reminders, triage_issue
from cards.common import card_time, is_form_id
from cards.help import render_help_card
from cards.phase import SETUP_VERB, SIGN_OFF_VERB, WITHDRAW_VERB, parse_setup, render_exit, render_setup
from cards.oncall import render_oncall
from cards.reminders import SNOOZE_VERB
from cards.runbooks import (
    CREATE_RUNBOOK_VERB,
    RUNBOOK_INPUTS,
    UPDATE_RUNBOOK_VERB,
    render_runbook,
    render_runbook_form,
    render_runbook_results,
    suggestion_block,
)
from cards.standup import render_standup
from cards.status import render_status
from cards.issue_actions import (
    FIELD_INPUTS,
    INPUTS,
    AssignRequest,
    IssueActionTarget,
    parse_command as parse_card_command,
    parse_verb,
)
from cards.issue_card import Panel, render_issue_card
from cards.issue_form import (
    CREATE_VERB,
    IssueFormValues,
    IssueSubmission,
    is_teams_link,
    render_issue_form,
    validate_issue_submission,
)
from cards.lists import render_history, render_issue_list, render_roles
from cards.notice import render_announcement, render_notice_card, render_notices



log = logging.getLogger(__name__)

# Sends a turn's answer (or queues what the channel would not take now).
Deliver = Callable[[list[Outbound]], Awaitable[None]]


class StillAnswering(Exception):
    """The channel delivered a message again while its first delivery is still being answered: try again later."""


class PeopleDirectory(Protocol):
    """Who someone is in the organisation, asked of the channel (Teams: the conversation's members)."""

    async def person(self, user_id: str) -> Person | None:
        """By channel user id or AAD object id."""

    async def search(self, text: str) -> Person | None:
        """The one member whose name or email matches `text`; None when none or several do."""


class NoDirectory:
    async def person(self, user_id: str) -> Person | None:
        return None

    async def search(self, text: str) -> Person | None:
        return None


class Conversation:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        vocabulary: Vocabulary | None = None,
        admins: frozenset[str] = frozenset(),
        bot_name: str = "Hypercare",
        chart_url: Callable[[int, datetime], str] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._vocabulary = vocabulary
        self._admins = admins
        self._bot_name = bot_name
        self._chart_url_for = chart_url

    def _chart_url(self, war_room_id: int | None, now: datetime) -> str | None:
        return self._chart_url_for(war_room_id, now) if self._chart_url_for and war_room_id else None

    # -- messages ---------------------------------------------------------------------------

    async def on_message(self, message: InboundMessage, deliver: Deliver, directory: PeopleDirectory | None = None) -> None:
        """Answer a message through `deliver`, once however often the channel delivers it.

        The message is claimed first. The claim is finished once `deliver` has returned (the answer is sent or
        queued) and released when anything failed, so that the channel's next delivery is answered. A delivery
        while another is still being answered raises `StillAnswering`: that one may yet fail.
        """
        command = parse_command(message.text) if message.text.strip() else ShowHelp()
        report_text = message.text if command is None else command.text if isinstance(command, ReportIssue) else None
        claimed_at = self._clock.now()
        received = await receive_message(
            uow=self._uow_factory(),
            now=claimed_at,
            conversation=message.conversation,
            activity_id=message.activity_id,
            report_text=report_text,
            look_in_thread=command is None,
        )
        if received.claim == "done":
            return
        if received.claim == "busy":
            raise StillAnswering(f"activity {message.activity_id} is being answered by another delivery")
        try:
            await deliver(await self._answer(command, message, received, directory or NoDirectory()))
        except BaseException:
            await self._release(message, claimed_at)
            raise
        await self._finish(message, claimed_at)

    async def _finish(self, message: InboundMessage, claimed_at: datetime) -> None:
        if not message.activity_id:
            return
        try:
            finished = await finish_activity(
                uow=self._uow_factory(), now=self._clock.now(), conversation_id=message.conversation.conversation_id,
                activity_id=message.activity_id, claimed_at=claimed_at,
            )
        except Exception as error:  # the answer is out: failing the request now would only invite a second one
            log.warning("activity %s was answered but not recorded as such (%s)", message.activity_id, type(error).__name__)
            return
        if not finished:
            log.warning("activity %s was answered after its claim ran out: a re-delivery may be answered too", message.activity_id)

    async def _release(self, message: InboundMessage, claimed_at: datetime) -> None:
        if not message.activity_id:
            return
        try:
            await release_activity(
                uow=self._uow_factory(), conversation_id=message.conversation.conversation_id, activity_id=message.activity_id,
                claimed_at=claimed_at,
            )
        except Exception as error:  # the database is away too: the claim runs out with its lease instead
            log.warning("could not release the claim on activity %s (%s)", message.activity_id, type(error).__name__)

    async def _answer(
        self, command: ChatCommand | CommandError | None, message: InboundMessage, received: Received, directory: PeopleDirectory
    ) -> list[Outbound]:
        if isinstance(command, CommandError):
            return [ReplyCard(card=render_notice_card(command.message))]
        if command is None:
            if received.thread_issue is not None:
                # A reply in an issue's thread is news about that issue, not a new issue.
                issue = received.thread_issue
                result = await self._triage(message.conversation, message.sender, AddUpdate(text=message.text[:2000]), issue_id=issue.id)
                return self._command_answer(result, message.conversation, f"Added to #{issue.number} as an update.")
            command = ReportIssue(text=message.text)
        if isinstance(command, ReportIssue):
            return [ReplyCard(card=self._report_answer(command.text, received))]
        return await self._run(command, message, directory)

    def _report_answer(self, text: str, received: Received) -> Card:
        room = received.room
        if room is not None and room.signed_off_at is not None:
            route = room.settings.steady_state_support or "the usual support process (ask your admin to name it in `setup`)"
            return render_notice_card(f"Hypercare has ended here (signed off). Please raise new problems with {route}.")
        return self._issue_form(text, suggestions=list(received.suggestions))

    async def _run(self, command: ChatCommand, message: InboundMessage, directory: PeopleDirectory) -> list[Outbound]:
        conversation = message.conversation
        now = self._clock.now()
        match command:
            case ShowHelp():
                return [ReplyCard(card=render_help_card(self._bot_name))]
            case NewRunbookCommand():
                return [ReplyCard(card=render_runbook_form(form_id=uuid.uuid4().hex))]
            case SearchRunbooks(words=words):
                found = await find_runbooks(uow=self._uow_factory(), conversation=conversation, words=words)
                if len(found) == 1:
                    return [ReplyCard(card=render_runbook(found[0]))]
                return [ReplyCard(card=render_runbook_results(words, found))]
            case ShowSetup():
                view = await phase_view(uow=self._uow_factory(), now=now, conversation=conversation)
                return [ReplyCard(card=render_setup(view.room.settings))]
            case ShowExit():
                view = await phase_view(uow=self._uow_factory(), now=now, conversation=conversation)
                return [ReplyCard(card=render_exit(view.report, war_room_name=view.room.display_name))]
            case ExtendPhase(until=until, weeks=weeks, reason=reason):
                view = await phase_view(uow=self._uow_factory(), now=now, conversation=conversation)
                settings = view.room.settings
                base = settings.ends_on or settings.calendar.local_date(now)
                ends_on = until or base + timedelta(weeks=weeks or 0)
                change = await extend(
                    uow=self._uow_factory(), now=now, conversation=conversation, actor=message.sender, ends_on=ends_on,
                    reason=reason, admins=self._admins,
                )
                return [ReplyCard(card=render_announcement(change.announcement or change.message))]
            case ListIssues():
                query = IssueQuery(
                    statuses=command.statuses or IssueQuery().statuses,
                    severity=command.severity,
                    assignee_id=(message.sender.aad_object_id or "") if command.mine else None,
                    unassigned=command.unassigned,
                    breached=command.breached,
                )
                issues, total = await list_issues(uow=self._uow_factory(), now=now, conversation=conversation, query=query)
                title = "Issues" + (f" ({', '.join(command.filters)})" if command.filters else " open now")
                hint = "Narrow it down with `list sev1`, `list mine` or `list unassigned`."
                return [ReplyCard(card=render_issue_list(title, issues, total, now=now, hint=hint))]
            case ShowIssue(number=number):
                issue = await find_issue(uow=self._uow_factory(), conversation=conversation, number=number)
                card = render_issue_card(issue) if issue else _no_such_issue(number)
                return [ReplyCard(card=card)]
            case ShowHistory(number=number):
                found = await issue_history(uow=self._uow_factory(), conversation=conversation, number=number)
                return [ReplyCard(card=render_history(*found) if found else _no_such_issue(number))]
            case AcknowledgeIssue(number=number):
                result = await self._triage(conversation, message.sender, Acknowledge(), number=number)
                return self._command_answer(result, conversation, f"#{number} acknowledged.")
            case AssignIssue(number=number):
                person = await self._mentioned_person(message, directory)
                if person is None:
                    return [ReplyCard(card=render_notice_card(f"Mention who should take it: `assign #{number} @person`."))]
                result = await self._triage(conversation, message.sender, Assign(assignee=person), number=number)
                return self._command_answer(result, conversation, f"#{number} assigned to {person.name}.")
            case ResolveIssue(number=number, notes=notes):
                command_resolve = Resolve(notes=notes[:4000], resolution_type=ResolutionType.FIXED)
                result = await self._triage(conversation, message.sender, command_resolve, number=number)
                return self._command_answer(result, conversation, f"#{number} resolved.")
            case ShowOnCall():
                view = await show_oncall(uow=self._uow_factory(), now=now, conversation=conversation)
                return [ReplyCard(card=render_oncall(view, now=now))]
            case SetOnCall(clear=True):
                change = await change_oncall(
                    uow=self._uow_factory(), now=now, conversation=conversation, actor=message.sender, admins=self._admins
                )
                return [ReplyCard(card=render_announcement(change.message))]
            case SetOnCall(until_local=until_local):
                person = await self._mentioned_person(message, directory)
                if person is None:
                    return [ReplyCard(card=render_notice_card("Mention who is on call: `oncall set @person [until 2026-12-01 18:00]`."))]
                change = await change_oncall(
                    uow=self._uow_factory(), now=now, conversation=conversation, actor=message.sender, admins=self._admins,
                    person=person, until_local=until_local,
                )
                return [ReplyCard(card=render_announcement(change.message))]
            case SetRota(handover_weekday=weekday, handover_time=handover_time):
                if not message.mentions:
                    return [ReplyCard(card=render_notice_card("Mention the people in turn: `oncall rota @a @b @c [handover mon 09:00]`."))]
                # Nobody is looked up for someone who may not set the rota, nor for more people than a rota holds.
                refusal = await oncall_refusal(
                    uow=self._uow_factory(), now=now, conversation=conversation, actor=message.sender, admins=self._admins
                )
                if refusal is not None:
                    return [ReplyCard(card=render_notice_card(refusal.message))]
                if len(message.mentions) > MAX_MENTIONS:
                    return [ReplyCard(card=render_notice_card(
                        f"A rota holds at most {MAX_MENTIONS} people; this message mentions {len(message.mentions)}."
                    ))]
                people = [await self._person(mentioned.user_id, mentioned.name, directory) for mentioned in message.mentions]
                change = await change_oncall(
                    uow=self._uow_factory(), now=now, conversation=conversation, actor=message.sender, admins=self._admins,
                    rota=tuple(people), handover_weekday=weekday, handover_time=handover_time,
                )
                return [ReplyCard(card=render_announcement(change.message))]
            case PostStandup():
                summary = await standup_for(uow=self._uow_factory(), now=now, conversation=conversation)
                if summary is None:
                    return [ReplyCard(card=render_notice_card("No issues raised here yet."))]
                war_room_id = await war_room_of(uow=self._uow_factory(), conversation=conversation)
                return [ReplyCard(card=render_standup(summary, chart_url=self._chart_url(war_room_id, now)))]
            case ShowStatus():
                war_room_id = await war_room_of(uow=self._uow_factory(), conversation=conversation)
                figures = await phase_figures(uow=self._uow_factory(), now=now, war_room_id=war_room_id) if war_room_id else None
                if figures is None:
                    return [ReplyCard(card=render_notice_card("No issues raised here yet."))]
                card = render_status(
                    figures.metrics, figures.report, chart_url=self._chart_url(war_room_id, now), war_room_name=figures.room.display_name
                )
                return [ReplyCard(card=card)]
            case ManageRoles(action="list"):
                members = await list_roles(uow=self._uow_factory(), conversation=conversation)
                return [ReplyCard(card=render_roles(members))]
            case ManageRoles(action=action, role=role, myself=myself):
                assert role is not None
                person = message.sender if myself else await self._mentioned_person(message, directory)
                if person is None:
                    return [ReplyCard(card=render_notice_card(f"Mention the person: `roles {action} @person {role.value}`."))]
                change = await change_role(
                    uow=self._uow_factory(), now=now, conversation=conversation, actor=message.sender, person=person,
                    role=role, grant=action == "add", admins=self._admins,
                )
                return [ReplyCard(card=render_announcement(change.message))]
        raise AssertionError(f"unhandled command {command!r}")

    def _issue_form(self, text: str, *, suggestions: list[Suggestion], source: SourceMessage | None = None) -> Card:
        draft = parse_issue_draft(text, self._vocabulary)
        notices = []
        if source is not None:
            notices.append(f"From a message by {source.author or 'someone'}.")
        if len(text) > DESCRIPTION_MAX:
            notices.append(
                f"The message is longer than {DESCRIPTION_MAX:,} characters; the description holds "
                "its beginning. Add the rest as an update once the issue is raised."
            )
        return render_issue_form(
            IssueFormValues.from_draft(draft),
            form_id=uuid.uuid4().hex,
            notice=" ".join(notices) or None,
            in_dialog=source is not None,
            source_url=source.url if source else None,
            suggestions=suggestion_block(suggestions),
        )

    # -- "Raise hypercare issue" on a message ---------------------------------------------------

    async def on_raise_from_message(self, source: SourceMessage) -> Card:
        """The issue form, prefilled from the chosen message, for the dialog Teams opens."""
        received = await receive_message(
            uow=self._uow_factory(), now=self._clock.now(), conversation=source.conversation, activity_id=None, report_text=source.text
        )
        return self._issue_form(source.text, suggestions=list(received.suggestions), source=source)

    async def on_raise_from_message_submitted(self, action: InboundCardAction) -> CardActionResult:
        """The dialog's form submitted: the stored issue's card (to post in the thread) or the form with errors."""
        return await self._create_issue(action, in_dialog=True)

    async def on_installed(self, where: ConversationRef) -> None:
        """The bot was added to a team or chat (or it changed): remember the place and its name."""
        await record_contact(uow=self._uow_factory(), now=self._clock.now(), conversation=where)

    async def deliver_later(self, where: ConversationRef, card: Card, *, dedupe_key: str) -> None:
        """A message the channel would not take now: the outbox delivers it when it can."""
        await enqueue_message(uow=self._uow_factory(), now=self._clock.now(), conversation=where, card=card, dedupe_key=dedupe_key)

    async def card_posted(self, issue_id: int, activity_id: str, thread: ConversationRef) -> None:
        """The issue's card was posted as `activity_id` in `thread`, where the issue lives from now on."""
        await attach_card(uow=self._uow_factory(), now=self._clock.now(), issue_id=issue_id, activity_id=activity_id, thread=thread)

    async def _mentioned_person(self, message: InboundMessage, directory: PeopleDirectory) -> Person | None:
        if not message.mentions:
            return None
        mentioned = message.mentions[0]
        return await self._person(mentioned.user_id, mentioned.name, directory)

    async def _person(self, user_id: str, name: str, directory: PeopleDirectory) -> Person:
        return await directory.person(user_id) or Person(aad_object_id=None, name=name)

    def _command_answer(self, result: TriageResult, conversation: ConversationRef, done: str) -> list[Outbound]:
        """A command's reply in the chat, plus the issue card refreshed where it is shown."""
        match result:
            case Applied():
                return [ReplyCard(card=render_announcement(done)), *self._side_effects(result, clicked_card=None)]
            case Refused(reason=reason) | NotFound(reason=reason):
                return [ReplyCard(card=render_notice_card(reason))]
            case Stale(issue=issue):
                return [ReplyCard(card=render_issue_card(issue))]
        raise AssertionError(f"unhandled result {result!r}")

    # -- card actions -------------------------------------------------------------------------

    async def on_card_action(self, action: InboundCardAction, directory: PeopleDirectory | None = None) -> CardActionResult:
        if action.verb == CREATE_VERB:
            return await self._create_issue(action)
        if action.verb in (SETUP_VERB, SIGN_OFF_VERB, WITHDRAW_VERB):
            return await self._phase_action(action)
        if action.verb in (CREATE_RUNBOOK_VERB, UPDATE_RUNBOOK_VERB):
            return await self._runbook_action(action)
        target = _target(action)
        if action.verb == SNOOZE_VERB and target is not None:
            return await self._snooze(action, target)
        verb = parse_verb(action.verb)
        if verb is None or target is None:
            return CardActionResult(
                card=render_notice_card(
                    "This button is not one I know (the card may be from an older version of the bot). "
                    "Mention me with your problem to get a fresh issue form, or `show #N` for an issue's card."
                )
            )
        parsed = parse_card_command(verb, action.data)
        if isinstance(parsed, AssignRequest):
            parsed = await self._assignee(parsed, directory or NoDirectory())
        if isinstance(parsed, dict):
            return await self._panel(action, target, verb, parsed)
        result = await self._triage(
            action.conversation, action.sender, parsed, issue_id=target.issue_id, card_version=target.version
        )
        if isinstance(result, Refused) and result.field:
            # Refused for one input (not who may act): the inputs again, as typed, the reason under that one.
            panel = Panel(verb=verb, values=_typed(action, verb), errors={FIELD_INPUTS[verb][result.field]: result.reason})
            return CardActionResult(card=render_issue_card(result.issue, panel=panel), issue_id=result.issue.id)
        return self._card_answer(result, action)

    async def _runbook_action(self, action: InboundCardAction) -> CardActionResult:
        def text(key: str) -> str:
            value = action.data.get(key)
            return value.strip() if isinstance(value, str) else ""

        values = {key: text(key) for key in RUNBOOK_INPUTS}
        errors = {}
        if not values["runbook_title"] or len(values["runbook_title"]) > TITLE_MAX:
            errors["runbook_title"] = f"A title of 1 to {TITLE_MAX} characters."
        if not values["runbook_steps"] or len(values["runbook_steps"]) > DESCRIPTION_MAX:
            errors["runbook_steps"] = f"Steps of 1 to {DESCRIPTION_MAX:,} characters."
        if len(values["runbook_symptoms"]) > DESCRIPTION_MAX:
            errors["runbook_symptoms"] = f"At most {DESCRIPTION_MAX:,} characters."
        now = self._clock.now()
        if action.verb == UPDATE_RUNBOOK_VERB:
            runbook_id = action.data.get("runbook_id")
            if errors or not isinstance(runbook_id, int):
                return CardActionResult(card=render_notice_card("Nothing was saved: a runbook needs a title and steps."))
            change = await edit_runbook(
                uow=self._uow_factory(), now=now, conversation=action.conversation, editor=action.sender, runbook_id=runbook_id,
                title=values["runbook_title"], symptoms=values["runbook_symptoms"], steps=values["runbook_steps"], admins=self._admins,
            )
            if change.runbook is None:
                return CardActionResult(card=render_notice_card(change.message))
            return CardActionResult(card=render_runbook(change.runbook, notice=change.message), refresh_for_everyone=True)
        form_id = action.data.get("form_id")
        if not is_form_id(form_id):
            errors["form_id"] = "This form was damaged; here is a fresh one: check it and save again."
        if errors:
            # A valid form id is kept, so that correcting the form and saving still writes one runbook.
            kept = form_id if is_form_id(form_id) else uuid.uuid4().hex
            return CardActionResult(card=render_runbook_form(form_id=kept, values=values, errors=errors))
        runbook = await write_runbook(
            uow=self._uow_factory(), now=now, conversation=action.conversation, author=action.sender, form_id=form_id,
            title=values["runbook_title"], symptoms=values["runbook_symptoms"], steps=values["runbook_steps"],
            area=_enum(Area, values["runbook_area"]), category=_enum(Category, values["runbook_category"]),
        )
        return CardActionResult(card=render_runbook(runbook, notice="Runbook saved."), refresh_for_everyone=True)

    async def _phase_action(self, action: InboundCardAction) -> CardActionResult:
        now = self._clock.now()
        conversation = action.conversation
        if action.verb == SETUP_VERB:
            view = await phase_view(uow=self._uow_factory(), now=now, conversation=conversation)
            parsed = parse_setup(action.data, view.room.settings)
            if isinstance(parsed, dict):
                typed = {key: str(value) for key, value in action.data.items() if isinstance(value, (str, int, float))}
                return CardActionResult(card=render_setup(view.room.settings, errors=parsed, values=typed))
            change = await configure(
                uow=self._uow_factory(), now=now, conversation=conversation, actor=action.sender, settings=parsed, admins=self._admins
            )
            if not change.changed or change.view is None:
                return CardActionResult(card=render_notice_card(change.message))
            return CardActionResult(card=render_setup(change.view.room.settings, saved=True), refresh_for_everyone=True)
        if action.verb == SIGN_OFF_VERB:
            change = await sign_off(uow=self._uow_factory(), now=now, conversation=conversation, actor=action.sender, admins=self._admins)
        else:
            reason = str(action.data.get("withdraw_reason") or "").strip()[:500]
            if not reason:
                view = await phase_view(uow=self._uow_factory(), now=now, conversation=conversation)
                return CardActionResult(card=render_exit(view.report, war_room_name=view.room.display_name))
            change = await withdraw_sign_off(
                uow=self._uow_factory(), now=now, conversation=conversation, actor=action.sender, reason=reason, admins=self._admins
            )
        if change.view is None:
            return CardActionResult(card=render_notice_card(change.message))
        card = render_exit(change.view.report, war_room_name=change.view.room.display_name)
        effects: tuple[UpdateCard | PostCard, ...] = ()
        home = change.view.room.home_conversation_id
        if change.announcement and home:
            effects = (PostCard(conversation_id=home, card=render_announcement(change.announcement)),)
        if not change.changed:
            card = render_exit(change.view.report, war_room_name=change.view.room.display_name, notice=change.message)
        return CardActionResult(card=card, refresh_for_everyone=change.changed, side_effects=effects)

    async def _snooze(self, action: InboundCardAction, target: IssueActionTarget) -> CardActionResult:
        result = await snooze_reminders(
            uow=self._uow_factory(), now=self._clock.now(), conversation=action.conversation, actor=action.sender,
            issue_id=target.issue_id, period=SNOOZE_PERIOD, admins=self._admins,
        )
        match result:
            case Applied(issue=issue):
                until = self._clock.now() + SNOOZE_PERIOD
                text = f"Reminders for #{issue.number} snoozed until {card_time(until)} by {action.sender.name}."
                return CardActionResult(card=render_notice_card(text), refresh_for_everyone=True)
            case Refused(reason=reason) | NotFound(reason=reason):
                return CardActionResult(card=render_notice_card(reason))
        raise AssertionError(f"unhandled result {result!r}")

    async def _assignee(self, request: AssignRequest, directory: PeopleDirectory) -> Assign | dict[str, str]:
        person = await directory.person(request.person) or await directory.search(request.person)
        if person is None:
            return {"assign_person": "I could not find exactly one person by that; try their full name or email."}
        return Assign(assignee=person)

    async def _panel(self, action: InboundCardAction, target: IssueActionTarget, verb: Verb, errors: dict[str, str]) -> CardActionResult:
        """The card again, the action's inputs open with what the user typed and what is wrong."""
        found = await find_issue(uow=self._uow_factory(), conversation=action.conversation, issue_id=target.issue_id)
        if found is None:
            return CardActionResult(card=render_notice_card("There is no issue like that in this war room."))
        return CardActionResult(card=render_issue_card(found, panel=Panel(verb=verb, values=_typed(action, verb), errors=errors)))

    def _card_answer(self, result: TriageResult, action: InboundCardAction) -> CardActionResult:
        match result:
            case Applied(issue=issue):
                return CardActionResult(
                    card=render_issue_card(issue),
                    issue_id=issue.id,
                    refresh_for_everyone=True,
                    side_effects=tuple(self._side_effects(result, clicked_card=action.card_activity_id)),
                )
            case Refused(issue=issue, reason=reason):
                return CardActionResult(card=render_issue_card(issue, notice=reason), issue_id=issue.id)
            case Stale(issue=issue, change=change):
                notice = f"{change} This is the card as it is now." if change else None
                return CardActionResult(card=render_issue_card(issue, notice=notice), issue_id=issue.id)
            case NotFound(reason=reason):
                return CardActionResult(card=render_notice_card(reason))
        raise AssertionError(f"unhandled result {result!r}")

    def _side_effects(self, result: Applied, *, clicked_card: str | None) -> list[UpdateCard | PostCard]:
        """Every other place that must show the change: the issue's own card, duplicates' targets, its thread."""
        effects: list[UpdateCard | PostCard] = []
        for issue in (result.issue, *result.also_changed):
            if issue.card_activity_id and issue.card_activity_id != clicked_card:
                effects.append(
                    UpdateCard(conversation_id=issue.conversation_id, activity_id=issue.card_activity_id, card=render_issue_card(issue))
                )
        issue = result.issue
        if result.announcement:
            effects.append(PostCard(conversation_id=issue.conversation_id, card=render_announcement(result.announcement)))
        if result.notice:
            notices = render_notices(result.notice, notify=result.notify, issue_number=issue.number)
            effects += [PostCard(conversation_id=issue.conversation_id, card=card) for card in notices]
        return effects

    async def _triage(
        self,
        conversation: ConversationRef,
        actor: Person,
        command: TriageCommand,
        *,
        issue_id: int | None = None,
        number: int | None = None,
        card_version: int | None = None,
    ) -> TriageResult:
        return await triage_issue(
            uow=self._uow_factory(),
            now=self._clock.now(),
            conversation=conversation,
            actor=actor,
            issue_id=issue_id,
            number=number,
            card_version=card_version,
            command=command,
            admins=self._admins,
        )

    async def _create_issue(self, action: InboundCardAction, *, in_dialog: bool = False) -> CardActionResult:
        submission = validate_issue_submission(action.data)
        if isinstance(submission, dict):
            # A valid form id is kept so that fixing the form and submitting still raises one issue.
            form_id = uuid.uuid4().hex if "form_id" in submission else str(action.data["form_id"])
            source_url = action.data.get("source_url")
            return CardActionResult(
                card=render_issue_form(
                    IssueFormValues.from_submitted(action.data), form_id=form_id, errors=submission, in_dialog=in_dialog,
                    source_url=source_url if isinstance(source_url, str) and is_teams_link(source_url) else None,
                )
            )
        try:
            issue = await self._report(action, submission)
        except WarRoomClosed as closed:
            return CardActionResult(card=render_notice_card(f"Hypercare has ended here (signed off). Please raise this with {closed}."))
        return CardActionResult(card=render_issue_card(issue), issue_id=issue.id, refresh_for_everyone=True)

    async def _report(self, action: InboundCardAction, submission: IssueSubmission) -> Issue:
        return await report_issue(
            uow=self._uow_factory(),
            now=self._clock.now(),
            draft=IssueDraft(
                title=submission.title,
                description=submission.description,
                severity=submission.severity,
                category=submission.category,
                area=submission.area,
                company=submission.company,
                affected_users=submission.affected_users,
            ),
            reporter=action.sender,
            conversation=action.conversation,
            form_id=submission.form_id,
            card_activity_id=action.card_activity_id,
            source_url=submission.source_url,
        )


def _enum(kind: type[Area] | type[Category], value: str) -> Any:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _target(action: InboundCardAction) -> IssueActionTarget | None:
    try:
        return IssueActionTarget.model_validate(action.data)
    except ValueError:
        return None


def _typed(action: InboundCardAction, verb: Verb) -> dict[str, str]:
    """What was typed into an action's inputs, to show them again."""
    return {key: str(action.data.get(key, "")) for key in INPUTS.get(verb, ())}


def _no_such_issue(number: int) -> Card:
    return render_notice_card(f"There is no issue #{number} in this war room. `list` shows the open ones.")
