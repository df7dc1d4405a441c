"""bot/chat/conversation.py: a message is claimed, answered once and finished, or released when answering fails."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.chat.conversation import Conversation, StillAnswering
from bot.domain.messages import ConversationRef, Outbound
from bot.domain.model import Role
from tests.support.chat import Delivered, message, text
from tests.support.clock import FrozenClock
from tests.support.factories import PRIYA, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWorkFactory
from tests.support.scene import CHANNEL, NOW

KEY = (CHANNEL.conversation_id, "act-1")


async def test_a_message_is_answered_and_its_claim_finished(conversation: Conversation, store: FakeStore, clock: FrozenClock) -> None:
    delivered = Delivered()

    await conversation.on_message(message("help"), delivered)

    assert len(delivered.cards) == 1 and "Contoso Hypercare: the hypercare war-room bot" in text(delivered.cards[0])
    assert store.activities[KEY].done_at == NOW


async def test_a_message_answered_already_is_not_answered_again(conversation: Conversation, store: FakeStore) -> None:
    await conversation.on_message(message("help"), Delivered())
    again = Delivered()

    await conversation.on_message(message("help"), again)

    assert again.answers == []


async def test_a_message_delivered_again_while_it_is_being_answered_is_still_answering(
    conversation: Conversation, store: FakeStore, clock: FrozenClock
) -> None:
    second = Delivered()
    raised: list[BaseException] = []

    async def deliver_while_teams_delivers_it_again(outbound: list[Outbound], where: ConversationRef) -> None:
        clock.advance(timedelta(seconds=5))
        try:
            await conversation.on_message(message("help"), second)
        except StillAnswering as error:
            raised.append(error)

    await conversation.on_message(message("help"), deliver_while_teams_delivers_it_again)

    assert [type(error) for error in raised] == [StillAnswering] and second.answers == []
    assert store.activities[KEY].received_at == NOW and store.activities[KEY].done_at == NOW + timedelta(seconds=5)


async def test_when_delivering_fails_the_claim_is_released_for_the_next_delivery(conversation: Conversation, store: FakeStore) -> None:
    with pytest.raises(RuntimeError, match="connector down"):
        await conversation.on_message(message("help"), Delivered(fail=RuntimeError("connector down")))

    assert store.activities == {}
    retried = Delivered()
    await conversation.on_message(message("help"), retried)
    assert len(retried.cards) == 1 and store.activities[KEY].done_at == NOW


async def test_a_message_without_an_activity_id_is_answered_without_a_claim(conversation: Conversation, store: FakeStore) -> None:
    delivered = Delivered()

    await conversation.on_message(message("help", activity_id=None), delivered)

    assert len(delivered.cards) == 1 and store.activities == {}


@pytest.mark.parametrize("said", ["", "   "])
async def test_an_empty_mention_gets_the_help_card(conversation: Conversation, said: str) -> None:
    delivered = Delivered()

    await conversation.on_message(message(said), delivered)

    assert "To raise an issue, mention me and describe the problem" in text(delivered.cards[0])


async def test_a_command_written_wrongly_says_how_to_write_it(conversation: Conversation) -> None:
    delivered = Delivered()

    await conversation.on_message(message("list sev5"), delivered)

    assert "I don't know the filter `sev5`" in text(delivered.cards[0])


async def test_being_installed_records_the_war_room_and_its_name_welcomes_once_and_makes_the_installer_admin(
    conversation: Conversation, store: FakeStore
) -> None:
    [welcome] = await conversation.on_installed(CHANNEL.model_copy(update={"team_name": "Contoso go-live"}), PRIYA, [])

    assert [room.name for room in store.war_rooms.values()] == ["Contoso go-live"] and CHANNEL.conversation_id in store.conversations
    assert "Set up hypercare" in text(welcome.card) and Role.ADMIN in store.roles[(1, PRIYA.aad_object_id)][1]
    assert await conversation.on_installed(CHANNEL, PRIYA, []) == []


async def test_an_answer_the_channel_would_not_take_goes_to_the_outbox(conversation: Conversation, store: FakeStore) -> None:
    await conversation.deliver_later(CHANNEL, {"type": "AdaptiveCard"}, dedupe_key="reply:act-1")

    assert [(r.message.dedupe_key, r.message.card) for r in store.outbox.values()] == [("reply:act-1", {"type": "AdaptiveCard"})]


async def test_a_posted_issue_card_is_attached_to_its_issue(
    conversation: Conversation, store: FakeStore, uow_factory: FakeUnitOfWorkFactory
) -> None:
    await conversation.on_conversation_changed(CHANNEL, [], [])
    store.add_issue(make_issue(card_activity_id=None))

    await conversation.card_posted(1, "card-900", CHANNEL)

    assert store.issues[1].card_activity_id == "card-900" and uow_factory.commits == 2
