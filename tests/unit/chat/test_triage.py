"""bot/chat/triage.py: issues listed, shown and changed from the chat and from their cards' buttons; snoozing."""

from __future__ import annotations

import pytest

from bot.domain.messages import Mention, PostCard, ReplyCard, UpdateCard
from bot.domain.model import Role, Status
from bot.domain.war_room import WarRoom
from cards.reminders import SNOOZE_VERB
from tests.support.chat import Bot, text
from tests.support.factories import OMAR, PRIYA, make_issue
from tests.support.fakes import FakeDirectory, FakeStore
from tests.support.scene import ANOTHER_TEAM, LENA, open_war_room

# Omar is on call and Lena leads triage; Priya (the operator's admin) reported #12, shown on card "card-100" in its thread.
ISSUE = make_issue()
CARD = {"issue_id": 1, "version": 1}


@pytest.fixture(autouse=True)
def scene(store: FakeStore, room: WarRoom, directory: FakeDirectory) -> None:
    store.grant(room.id, OMAR, Role.ONCALL)
    store.grant(room.id, LENA, Role.TRIAGE_LEAD)
    store.add_issue(ISSUE)
    directory.members.update({"29:omar": OMAR, "29:lena": LENA})


async def test_list_shows_the_open_issues(bot: Bot, store: FakeStore) -> None:
    store.add_issue(make_issue(id=2, number=13, title="Bank file rejected", status=Status.RESOLVED))

    [answer] = await bot.say("list")

    assert "Issues open now" in text(answer.card) and "AP cannot post vendor invoices" in text(answer.card)
    assert "Bank file rejected" not in text(answer.card)


async def test_a_list_with_filters_says_which(bot: Bot) -> None:
    [answer] = await bot.say("list mine")

    assert "Issues (mine)" in text(answer.card) and "Nothing here" in text(answer.card)


async def test_show_gives_the_issues_card_or_says_there_is_none(bot: Bot, store: FakeStore) -> None:
    other = await open_war_room(store, ANOTHER_TEAM)
    store.add_issue(make_issue(id=2, war_room_id=other.id, number=40, title="Another team's issue"))

    [shown] = await bot.say("show #12")
    [missing] = await bot.say("show #40")

    assert "AP cannot post vendor invoices" in text(shown.card)
    assert "There is no issue #40 in this war room. `list` shows the open ones." in text(missing.card)


async def test_history_lists_what_happened_or_says_there_is_no_such_issue(bot: Bot) -> None:
    await bot.say("ack #12", sender=OMAR)

    [history] = await bot.say("history #12")
    [missing] = await bot.say("history #99")

    assert "History of #12" in text(history.card) and "Omar Haddad" in text(history.card)
    assert "There is no issue #99" in text(missing.card)


async def test_ack_in_the_chat_says_so_and_updates_the_issues_card(bot: Bot, store: FakeStore) -> None:
    answer = await bot.say("ack #12", sender=OMAR)

    assert isinstance(answer[0], ReplyCard) and "#12 acknowledged." in text(answer[0].card)
    [update] = [item for item in answer if isinstance(item, UpdateCard)]
    assert (update.activity_id, update.conversation_id) == ("card-100", ISSUE.conversation_id)
    assert "Acknowledged by Omar Haddad" in text(update.card) and store.issues[1].status is Status.ACKNOWLEDGED


async def test_ack_without_a_role_is_refused_with_the_roles_that_may(bot: Bot, store: FakeStore) -> None:
    [answer] = await bot.say("ack #12", sender=PRIYA)

    assert "To acknowledge issues you need the role floor_walker, oncall, partner, support or triage_lead." in text(answer.card)
    assert store.issues[1].status is Status.NEW


async def test_assign_takes_the_person_mentioned(bot: Bot, store: FakeStore) -> None:
    answer = await bot.say("assign #12 @Omar", sender=LENA, mentions=(Mention(user_id="29:omar", name="Omar"),))

    assert "#12 assigned to Omar Haddad." in text(answer[0].card) and store.issues[1].assignee == OMAR


async def test_assign_without_a_mention_says_how(bot: Bot, store: FakeStore) -> None:
    [answer] = await bot.say("assign #12", sender=LENA)

    assert "Mention who should take it: `assign #12 @person`." in text(answer.card) and store.issues[1].assignee is None


async def test_resolve_in_the_chat_tells_the_thread_and_the_reporter(bot: Bot, store: FakeStore) -> None:
    answer = await bot.say("resolve #12 recreated the posting profile", sender=OMAR)

    assert "#12 resolved." in text(answer[0].card) and store.issues[1].status is Status.RESOLVED
    notice, question = [item for item in answer if isinstance(item, PostCard)]
    assert "Resolved: #12 AP cannot post vendor invoices (Fixed)." in text(notice.card)
    assert "Priya Shah" in text(notice.card)
    # Then the reporter is asked, @mentioned, whether it is fixed for them.
    assert question.conversation_id == notice.conversation_id
    assert "Is it fixed for you?" in text(question.card) and "Fixed for me" in text(question.card)
    assert question.card["msteams"]["entities"][0]["mentioned"]["id"] == "aad-priya"


async def test_a_reply_in_an_issues_thread_is_an_update_of_it(bot: Bot, store: FakeStore) -> None:
    answer = await bot.say("Posting profile recreated in UAT, testing now", sender=OMAR)

    assert "Added to #12 as an update." in text(answer[0].card)
    assert store.issues[1].latest_update is not None and store.issues[1].latest_update.text.startswith("Posting profile recreated")


async def test_a_button_applies_and_the_card_changes_for_everyone(bot: Bot, store: FakeStore) -> None:
    result = await bot.press("issue.ack", CARD, sender=OMAR)

    assert result.issue_id == 1 and result.refresh_for_everyone and result.side_effects == ()  # the clicked card is the one shown
    assert "Acknowledged by Omar Haddad" in text(result.card) and store.issues[1].version == 2


async def test_a_button_refused_shows_the_card_with_the_reason(bot: Bot, store: FakeStore) -> None:
    result = await bot.press("issue.defer", CARD, sender=LENA)

    assert "Only Sev 3 and Sev 4 issues go to the post-go-live backlog; #12 is Sev 1." in text(result.card)
    assert result.issue_id == 1 and not result.refresh_for_everyone and store.issues[1].status is Status.NEW


async def test_a_refusal_about_an_input_opens_it_again_with_what_was_typed(bot: Bot, store: FakeStore) -> None:
    typed = CARD | {"resolve_notes": "Recreated the profile", "resolve_type": "fixed", "resolve_handled_by": "support"}

    result = await bot.press("issue.resolve", typed, sender=OMAR)

    assert "Handled by follows your role" in text(result.card) and "Recreated the profile" in text(result.card)
    assert store.issues[1].status is Status.NEW


async def test_a_button_with_an_input_missing_asks_for_it(bot: Bot, store: FakeStore) -> None:
    result = await bot.press("issue.update", CARD | {"update_text": ""}, sender=OMAR)

    assert "Write the update (at most 2,000 characters)." in text(result.card) and store.events == []


async def test_assign_by_a_name_matching_nobody_asks_again(bot: Bot, store: FakeStore) -> None:
    result = await bot.press("issue.assign", CARD | {"assign_person": "Someone Else"}, sender=LENA)

    assert "I could not find exactly one person by that" in text(result.card) and store.issues[1].assignee is None


async def test_assign_by_the_people_picker_finds_the_person(bot: Bot, store: FakeStore) -> None:
    result = await bot.press("issue.assign", CARD | {"assign_person": "aad-lena"}, sender=LENA)

    assert result.refresh_for_everyone and store.issues[1].assignee == LENA


async def test_an_old_card_says_what_changed_and_shows_the_issue_as_it_is(bot: Bot, store: FakeStore) -> None:
    await bot.press("issue.take", CARD, sender=LENA)

    result = await bot.press("issue.ack", CARD, sender=OMAR)

    assert "Lena Berg took this just now. This is the card as it is now." in text(result.card)
    assert store.issues[1].acknowledged_by == LENA and not result.refresh_for_everyone


async def test_a_button_for_another_war_rooms_issue_finds_nothing(bot: Bot, store: FakeStore) -> None:
    result = await bot.press("issue.ack", CARD, sender=OMAR, conversation=ANOTHER_TEAM)

    assert "There is no issue like that in this war room." in text(result.card) and store.issues[1].status is Status.NEW


async def test_a_button_without_its_issue_is_not_known(bot: Bot) -> None:
    result = await bot.press("issue.ack", {"version": 1}, sender=OMAR)

    assert "This button is not one I know" in text(result.card)


async def test_snooze_says_until_when_and_by_whom(bot: Bot, store: FakeStore) -> None:
    result = await bot.press(SNOOZE_VERB, CARD, sender=OMAR)

    assert "Reminders for #12 snoozed until" in text(result.card) and "by Omar Haddad." in text(result.card)
    assert result.refresh_for_everyone and store.reminders[1][0].snoozed_until is not None


async def test_snooze_without_the_role_is_refused(bot: Bot, store: FakeStore) -> None:
    result = await bot.press(SNOOZE_VERB, CARD, sender=PRIYA)

    assert "To snooze reminders you need the role oncall or triage_lead." in text(result.card)
    assert store.reminders[1][0].snoozed_until is None


async def test_snooze_for_a_damaged_button_is_not_known(bot: Bot) -> None:
    assert "This button is not one I know" in text((await bot.press(SNOOZE_VERB, {"issue_id": "x"}, sender=OMAR)).card)
