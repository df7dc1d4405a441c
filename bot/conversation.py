"""What the bot answers: a user's message or card action in, the cards to show out.

Channel-neutral: `bot/teams` turns activities into the inbound messages used here and delivers
the answers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from bot.clock import Clock
from bot.domain.model import DESCRIPTION_MAX, IssueDraft
from bot.domain.parsing import Vocabulary, parse_issue_draft
from bot.domain.policy import SeverityPolicy
from bot.messages import CardActionResult, InboundCardAction, InboundMessage, ReplyCard
from bot.services import UnitOfWork, record_contact, report_issue
from cards.help import render_help_card
from cards.issue_card import render_issue_card
from cards.issue_form import (
    CREATE_VERB,
    IssueFormValues,
    render_issue_form,
    validate_issue_submission,
)
from cards.notice import render_notice_card

_HELP = re.compile(r"^\s*(help|\?)\s*[.!?]?\s*$", re.IGNORECASE)


class Conversation:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        policy: SeverityPolicy,
        vocabulary: Vocabulary | None = None,
        bot_name: str = "Hypercare",
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._policy = policy
        self._vocabulary = vocabulary
        self._bot_name = bot_name

    async def on_message(self, message: InboundMessage) -> list[ReplyCard]:
        first_delivery = await record_contact(
            uow=self._uow_factory(),
            now=self._clock.now(),
            conversation=message.conversation,
            activity_id=message.activity_id,
        )
        if not first_delivery:
            return []
        if not message.text.strip() or _HELP.match(message.text):
            return [ReplyCard(card=render_help_card(self._bot_name))]
        draft = parse_issue_draft(message.text, self._vocabulary)
        notice = None
        if len(message.text) > DESCRIPTION_MAX:
            notice = (
                f"Your message is longer than {DESCRIPTION_MAX:,} characters; the description holds "
                "its beginning. Add the rest as an update once the issue is raised."
            )
        form = render_issue_form(IssueFormValues.from_draft(draft), form_id=uuid.uuid4().hex, notice=notice)
        return [ReplyCard(card=form)]

    async def on_card_action(self, action: InboundCardAction) -> CardActionResult:
        if action.verb != CREATE_VERB:
            return CardActionResult(
                card=render_notice_card(
                    "This button is not one I know (the card may be from an older version of the bot). "
                    "Mention me with your problem to get a fresh issue form."
                )
            )
        submission = validate_issue_submission(action.data)
        if isinstance(submission, dict):
            # A valid form id is kept so that fixing the form and submitting still raises one issue.
            form_id = uuid.uuid4().hex if "form_id" in submission else str(action.data["form_id"])
            return CardActionResult(
                card=render_issue_form(IssueFormValues.from_submitted(action.data), form_id=form_id, errors=submission)
            )
        issue = await report_issue(
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
            policy=self._policy,
        )
        return CardActionResult(card=render_issue_card(issue), issue_id=issue.id)
