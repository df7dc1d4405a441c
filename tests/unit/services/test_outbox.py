"""bot/services/outbox.py on the in-memory unit of work: a message queued once per dedupe key."""

from __future__ import annotations

from bot.services.outbox import enqueue_message
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import CHANNEL, NOW

CARD = {"type": "AdaptiveCard", "body": []}


async def test_a_message_is_queued_for_its_conversation_in_its_war_room(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await enqueue_message(uow=uow, now=NOW, conversation=CHANNEL, card=CARD, dedupe_key="reply:act-1")

    [record] = store.outbox.values()
    assert (record.message.war_room_id, record.message.conversation_id, record.message.kind) == (1, CHANNEL.conversation_id, "message")
    assert (record.message.service_url, record.message.card, record.status, record.next_attempt_at) == (CHANNEL.service_url, CARD, "pending", NOW)
    assert uow.commits == 1


async def test_the_same_dedupe_key_is_queued_once(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await enqueue_message(uow=uow, now=NOW, conversation=CHANNEL, card=CARD, dedupe_key="reply:act-1")

    await enqueue_message(uow=uow, now=NOW, conversation=CHANNEL, card={"changed": True}, dedupe_key="reply:act-1")

    assert [record.message.card for record in store.outbox.values()] == [CARD]
