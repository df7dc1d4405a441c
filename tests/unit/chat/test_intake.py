"""bot/chat/intake.py: a problem told in the chat gets its form; the form submitted raises one issue."""

from __future__ import annotations

from datetime import timedelta

from bot.chat.context import Chat
from bot.chat.conversation import Conversation
from bot.domain.messages import ReplyCard, SourceMessage
from bot.domain.model import Area, Category, Environment, Issue, IssueDraft, Severity, Status
from bot.domain.war_room import WarRoom
from cards.issue_form import CREATE_VERB
from tests.support.chat import Bot, action_data, click, inputs, submitted, text
from tests.support.clock import FrozenClock
from tests.support.factories import OMAR, PRIYA, make_issue
from tests.support.fakes import FakeDirectory, FakeStore, FakeUnitOfWorkFactory
from tests.support.scene import ANOTHER_TEAM, CHANNEL, NOW, open_war_room, resolved_by_support

PROBLEM = "sev2 - AP cannot post vendor invoices in USMF, 12 users"
# A problem (a defect, the model is sure), but the part of Dynamics 365 cannot be told from this.
UNCLEAR = "sev2 - same problem as yesterday, can someone look"


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


async def test_a_field_the_prefill_cannot_tell_is_please_choose_and_the_form_waits_until_it_is_picked(
    bot: Bot, store: FakeStore, room: WarRoom
) -> None:
    card = await form(bot, UNCLEAR)
    filled = submitted(card, CREATE_VERB)
    assert filled["please_choose"] == ["area"] and (filled["category"], filled["area"]) == ("defect", "")
    assert "D365 area (please choose)" in text(card) and inputs(card)["severity"] == "2"

    refused = await bot.press(CREATE_VERB, filled | {"title": "Odd screen"})

    assert store.issues == {} and "area_error" in text(refused.card) and "category_error" not in text(refused.card)
    kept = inputs(refused.card)
    assert (kept["title"], kept["category"], kept["severity"]) == ("Odd screen", "defect", "2")
    raised = await bot.press(CREATE_VERB, submitted(refused.card, CREATE_VERB) | {"area": "platform"})
    [issue] = store.issues.values()
    assert (issue.category, issue.area, raised.issue_id) == (Category.DEFECT, Area.PLATFORM, issue.id)


async def test_the_dynamics_details_read_from_the_message_are_stored_with_the_issue(bot: Bot, store: FakeStore, room: WarRoom) -> None:
    card = await form(bot, "sev2 - in UAT vendor invoice APINV-004512 for PO-000482 won't post, AP posting profile missing")
    assert (inputs(card)["environment"], inputs(card)["documents"]) == ("test", "APINV-004512, PO-000482")

    await bot.press(CREATE_VERB, submitted(card, CREATE_VERB) | {"documents": "APINV-004512"})

    [issue] = store.issues.values()
    assert (issue.environment, issue.documents) == (Environment.TEST, "APINV-004512")


QUOKKA = "the Quokka boxes keep rebooting"


def quokka_issues(war_room_id: int) -> list[Issue]:
    texts = ["Quokka boxes won't scan the pallets", "new pickers can't log into the Quokka boxes", "Quokka boxes slow in aisle 7"]
    return [make_issue(id=war_room_id * 10 + n, number=n, war_room_id=war_room_id, title=said, description=said,
                       area=Area.WAREHOUSE, category=Category.DEFECT, conversation_id=f"c-{war_room_id}-{n}")
            for n, said in enumerate(texts, 1)]


async def test_a_war_rooms_confirmed_issues_teach_its_next_prefill_and_no_other_war_rooms(
    bot: Bot, store: FakeStore, room: WarRoom
) -> None:
    other = await open_war_room(store, ANOTHER_TEAM)
    for issue in quokka_issues(other.id):
        store.add_issue(issue)
    assert inputs(await form(bot, QUOKKA))["area"] != "warehouse"  # another war room's words teach nothing here

    for issue in quokka_issues(room.id):
        store.add_issue(issue)

    assert inputs(await form(bot, QUOKKA))["area"] == "warehouse"


async def test_the_metrics_hook_counts_please_choose_as_left_open(uow_factory: FakeUnitOfWorkFactory, store: FakeStore) -> None:
    drafts: list[IssueDraft] = []
    chat = Chat(uow_factory=uow_factory, clock=FrozenClock(), on_draft=drafts.append)
    await open_war_room(store)
    card = await form(Bot(Conversation(chat), FakeDirectory()), UNCLEAR)

    [draft] = drafts
    assert (draft.severity, draft.category, draft.area) == (Severity.SEV2, Category.DEFECT, None)
    assert action_data(card, CREATE_VERB)["please_choose"] == ["area"]
