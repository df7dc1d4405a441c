"""Raising an issue: the prefilled form for a message (or a message chosen in Teams), and the form submitted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from bot.chat import floor
from bot.chat.context import Chat, Clicked, Said
from bot.domain.commands import ReportIssue
from bot.domain.membership import war_room_label
from bot.domain.messages import Card, CardActionResult, Outbound, PostIssueCard, ReplyCard, SourceMessage
from bot.domain.model import DESCRIPTION_MAX, Issue, IssueDraft, Suggestion
from bot.domain.prefill import LabelledExample
from bot.domain.war_room import WarRoom
from bot.services.intake import WarRoomClosed, receive_message, report_issue
from bot.services.membership import PersonsWarRooms
from bot.chat.views import issue_card
from cards.issue_form import IssueFormValues, is_teams_link, render_issue_form, validate_issue_submission
from cards.notice import render_notice_card
from cards.runbooks import suggestion_block

async def report(chat: Chat, command: ReportIssue, said: Said) -> list[Outbound]:
    """A problem told in the chat: its issue form, or where to go once hypercare is over."""
    room = said.received.room if said.received else None
    if room is not None and room.signed_off_at is not None:
        text = f"Hypercare has ended here (signed off). Please raise new problems with {room.settings.support_route}."
        return [ReplyCard(card=render_notice_card(text))]
    received = said.received
    return [
        ReplyCard(
            card=_issue_form(
                chat, command.text, suggestions=list(received.suggestions) if received else [],
                confirmed=received.confirmed if received else (), personal=said.personal, chosen=room,
            )
        )
    ]


async def form_for_message(
    chat: Chat, source: SourceMessage, *, personal: PersonsWarRooms | None = None, chosen: WarRoom | None = None
) -> Card:
    """The issue form, prefilled from a message chosen with "Raise hypercare issue", for the dialog Teams opens."""
    received = await receive_message(
        uow=chat.uow(), now=chat.now(), conversation=source.conversation, activity_id=None, report_text=source.text,
        sender=source.sender,
    )
    return _issue_form(
        chat, source.text, suggestions=list(received.suggestions), confirmed=received.confirmed, source=source,
        personal=personal, chosen=chosen,
    )


async def submit_issue_form(chat: Chat, clicked: Clicked) -> CardActionResult:
    return await _create_issue(chat, clicked, in_dialog=False)


async def submit_issue_dialog(chat: Chat, clicked: Clicked) -> CardActionResult:
    """The dialog's form submitted: the stored issue's card (to post in the thread) or the form with errors."""
    return await _create_issue(chat, clicked, in_dialog=True)


async def _create_issue(chat: Chat, clicked: Clicked, *, in_dialog: bool) -> CardActionResult:
    data = clicked.action.data
    submission = validate_issue_submission(data)
    if isinstance(submission, dict):
        # A valid form id is kept so that fixing the form and submitting still raises one issue.
        form_id = uuid.uuid4().hex if "form_id" in submission else str(data["form_id"])
        source_url = data.get("source_url")
        return CardActionResult(
            card=render_issue_form(
                IssueFormValues.from_submitted(data), form_id=form_id, errors=submission, in_dialog=in_dialog,
                source_url=source_url if isinstance(source_url, str) and is_teams_link(source_url) else None,
                **_war_room_choice(clicked.personal, str(data.get("war_room", ""))),
            )
        )
    try:
        issue = await report_issue(
            uow=chat.uow(),
            now=chat.now(),
            draft=IssueDraft(
                title=submission.title, description=submission.description, severity=submission.severity,
                category=submission.category, area=submission.area, company=submission.company,
                affected_users=submission.affected_users, environment=submission.environment, documents=submission.documents,
            ),
            reporter=clicked.sender,
            conversation=clicked.action.conversation,
            form_id=submission.form_id,
            card_activity_id=clicked.action.card_activity_id,
            source_url=submission.source_url,
        )
    except WarRoomClosed as closed:
        return CardActionResult(card=render_notice_card(f"Hypercare has ended here (signed off). Please raise this with {closed}."))
    # A how-to, access or training question in an area with a floor walker on duty today calls them: on the card,
    # and (where the card already is, in the channel) with a notice in its thread.
    called, notices = await floor.call(chat, issue)
    card = await issue_card(chat, issue, floor_walkers=called)
    if clicked.personal is not None:
        copy = await issue_card(chat, issue, notice=_copy_notice(issue, clicked.personal))
        return _raised_in_personal_chat(issue, card, copy, clicked.personal, in_dialog=in_dialog)
    if in_dialog:
        return CardActionResult(
            card=card, issue_id=issue.id, refresh_for_everyone=True,
            side_effects=(PostIssueCard(where=clicked.action.conversation, issue_id=issue.id, card=card),),
        )
    return CardActionResult(card=card, issue_id=issue.id, refresh_for_everyone=True, side_effects=tuple(notices))


def _copy_notice(issue: Issue, personal: PersonsWarRooms) -> str:
    room = personal.get(issue.war_room_id)
    label = war_room_label(room) if room else "your war room"
    where = "its card is in the team's channel, where the triage team sees it" if room and room.home else "the triage team sees it there"
    return f"Raised in {label}: {where}. This is your copy."


def _raised_in_personal_chat(issue: Issue, card: Card, copy: Card, personal: PersonsWarRooms, *, in_dialog: bool) -> CardActionResult:
    """Raised in a personal chat: the card goes to the war room's home channel, where the triage team sees it, and
    the reporter keeps a copy."""
    room = personal.get(issue.war_room_id)
    home = room.home if room else None
    effects = (PostIssueCard(where=home, issue_id=issue.id, card=card),) if home else ()
    # The form's own message is replaced by the copy (a dialog has none).
    return CardActionResult(card=copy, issue_id=issue.id, refresh_for_everyone=not in_dialog, side_effects=effects)


def _war_room_choice(personal: PersonsWarRooms | None, chosen: str) -> dict[str, Any]:
    """The form's war-room input in a personal chat: a choice among several, or the only one kept in its data."""
    if personal is None or not personal.rooms:
        return {}
    if len(personal.rooms) == 1:
        return {"war_room": str(personal.rooms[0].id)}
    return {"war_rooms": [(war_room_label(room), str(room.id)) for room in personal.rooms], "war_room": chosen}


def _issue_form(
    chat: Chat, text: str, *, suggestions: list[Suggestion], confirmed: Sequence[LabelledExample],
    source: SourceMessage | None = None, personal: PersonsWarRooms | None = None, chosen: WarRoom | None = None,
) -> Card:
    """The form prefilled from `text`: the model's confident guesses, moved by the war room's `confirmed` issues (its
    own words), and "please choose" where it is unsure."""
    prefill = chat.prefiller.prefill(text, confirmed)
    draft = prefill.draft
    if chat.on_draft is not None:
        chat.on_draft(draft)  # a "please choose" field is empty in the draft: counted as left open
    notices = []
    if source is not None:
        notices.append(f"From a message by {source.author or 'someone'}.")
    if len(text) > DESCRIPTION_MAX:
        notices.append(
            f"The message is longer than {DESCRIPTION_MAX:,} characters; the description holds "
            "its beginning. Add the rest as an update once the issue is raised."
        )
    return render_issue_form(
        IssueFormValues.from_draft(draft, prefill.unsure),
        form_id=uuid.uuid4().hex,
        notice=" ".join(notices) or None,
        in_dialog=source is not None,
        source_url=source.url if source else None,
        suggestions=suggestion_block(suggestions),
        **_war_room_choice(personal, str(chosen.id) if chosen else ""),
    )
