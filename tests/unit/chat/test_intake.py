"""bot/chat/intake.py: a problem told in the chat gets its form; the form submitted raises one issue."""

from __future__ import annotations

from datetime import timedelta

from bot.chat.conversation import Conversation
from bot.domain.messages import ReplyCard, SourceMessage
from bot.domain.model import Severity, Status
from bot.domain.war_room import WarRoom
from cards.issue_form import CREATE_VERB
from tests.support.chat import Bot, action_data, click, inputs, submitted, text
from tests.support.factories import OMAR, PRIYA
from tests.support.fakes import FakeStore, FakeUnitOfWorkFactory
from tests.support.scene import CHANNEL, NOW, open_war_room, resolved_by_support

PROBLEM = "sev2 - AP cannot post vendor invoices in USMF, 12 users"


async def form(bot: Bot, said: str = PROBLEM) -> dict:  # type: ignore[type-arg]
    [answer] = await bot.say(said)
    assert isinstance(answer, ReplyCard)
    return answer.card


async def test_a_problem_gets_its_form_prefilled_with_past_fixes_that_look_like_it(bot: Bot, store: FakeStore, room: WarRoom) -> None:
    store.add_issue(resolved_by_support(id=3, number=3, title="Vendor invoices cannot be posted", conversation_id="elsewhere"))

    card = await form(bot)

    assert "Raise a hypercare issue" in text(card) and "Vendor invoices cannot be posted" in text(card)
    assert inputs(card)["severity"] == "2" and inputs(card)["company"] == "USMF"
    assert store.issues.keys() == {3}  # a form only: nothing is raised yet


async def test_after_sign_off_a_problem_is_sent_to_the_support_route(bot: Bot, store: FakeStore, room: WarRoom) -> None:
    settings = room.settings.model_copy(update={"steady_state_support": "the IT service desk"})
    await open_war_room(store, settings=settings, signed_off_at=NOW - timedelta(days=1), signed_off_by=PRIYA)

    [answer] = await bot.say(PROBLEM)

    assert "Hypercare has ended here (signed off). Please raise new problems with the IT service desk." in text(answer.card)


async def test_the_form_submitted_raises_the_issue_and_shows_its_card_to_everyone(
    bot: Bot, store: FakeStore, uow_factory: FakeUnitOfWorkFactory
) -> None:
    filled = submitted(await form(bot), CREATE_VERB)

    result = await bot.press(CREATE_VERB, filled, sender=OMAR)

    [issue] = store.issues.values()
    assert (issue.number, issue.severity, issue.reporter, issue.status) == (1, Severity.SEV2, OMAR, Status.NEW)
    assert result.issue_id == issue.id and result.refresh_for_everyone
    assert "#1" in text(result.card) and "AP cannot post vendor invoices in USMF" in text(result.card)


async def test_submitting_the_same_form_twice_raises_one_issue(bot: Bot, store: FakeStore) -> None:
    filled = submitted(await form(bot), CREATE_VERB)

    first = await bot.press(CREATE_VERB, filled)
    second = await bot.press(CREATE_VERB, filled)

    assert len(store.issues) == 1 and first.issue_id == second.issue_id


async def test_a_form_with_errors_comes_back_with_the_values_and_what_is_wrong(bot: Bot, store: FakeStore) -> None:
    filled = submitted(await form(bot), CREATE_VERB) | {"title": "", "affected_users": "many"}

    result = await bot.press(CREATE_VERB, filled)

    assert action_data(result.card, CREATE_VERB)["form_id"] == filled["form_id"] and inputs(result.card)["company"] == "USMF"
    assert "title_error" in text(result.card) and "affected_users_error" in text(result.card)
    assert result.issue_id is None and not result.refresh_for_everyone and store.issues == {}


async def test_a_form_submitted_after_sign_off_raises_nothing(bot: Bot, store: FakeStore) -> None:
    filled = submitted(await form(bot), CREATE_VERB)
    store.war_rooms[1] = store.war_rooms[1].model_copy(update={"signed_off_at": NOW, "signed_off_by": PRIYA})

    result = await bot.press(CREATE_VERB, filled)

    assert "Hypercare has ended here (signed off). Please raise this with the usual support process" in text(result.card)
    assert store.issues == {}


async def test_raising_from_a_chosen_message_prefills_the_dialog_and_its_submit_raises_the_issue(
    conversation: Conversation, store: FakeStore
) -> None:
    source = SourceMessage(text=PROBLEM, author="Omar Haddad", url="https://teams.microsoft.com/l/message/19:x/1", sender=PRIYA,
                           conversation=CHANNEL)

    card = await conversation.on_raise_from_message(source)
    result = await conversation.on_raise_from_message_submitted(
        click(None, submitted(card))
    )

    assert "From a message by Omar Haddad." in text(card)
    [issue] = store.issues.values()
    assert issue.source_url == "https://teams.microsoft.com/l/message/19:x/1" and result.issue_id == issue.id
