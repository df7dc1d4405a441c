"""bot/scheduler.py on the in-memory unit of work: reminders planned in a large chunk still free the event loop; a
delivery round records how each message ended, never leaving more sent-but-unrecorded messages than send slots."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.messages import OutboundMessage, OutboxItem
from bot.domain.ports import DeliveryOutcome
from bot.domain.reminders import ReminderState
from bot.scheduler import Scheduler, SchedulerConfig, TickReport
from tests.support.clock import FakeSleep, FrozenClock
from tests.support.factories import RAISED_AT, make_conversation, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWorkFactory
from tests.support.scene import open_war_room

LATER = RAISED_AT + timedelta(hours=1)  # a Sev 1 raised then is overdue for acknowledgement


class FakeSender:
    """Answers per conversation (sent by default) and records what it was given."""

    def __init__(self, answers: dict[str, DeliveryOutcome] | None = None) -> None:
        self.answers = answers or {}
        self.given: list[str] = []

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        self.given.append(item.dedupe_key)
        return self.answers.get(item.conversation_id, DeliveryOutcome(kind="sent", activity_id=f"activity-{item.dedupe_key}"))


async def test_a_large_chunk_lets_other_tasks_run_every_few_issues_and_plans_them_all() -> None:
    store = FakeStore()
    room = await open_war_room(store)
    thread = make_conversation(conversation_id="19:general@thread.tacv2;messageid=100")
    store.conversations[thread.conversation_id] = (thread, room.id)
    for number in range(1, 31):
        store.add_issue(make_issue(id=number, number=number, war_room_id=room.id, conversation_id=thread.conversation_id))
        store.reminders[number] = (ReminderState(), RAISED_AT)
    scheduler = Scheduler(uow_factory=FakeUnitOfWorkFactory(store), sender=FakeSender(),
                          config=SchedulerConfig(plan_chunk=500, plan_yield=10))
    turns = 0

    async def another_task() -> None:  # the fakes never wait: only the planner's own yields let it run
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    other = asyncio.create_task(another_task())
    await asyncio.sleep(0)
    report = TickReport()
    await scheduler.plan_reminders(LATER, report)
    other.cancel()

    assert turns == 2  # after the 10th and the 20th issue of the one chunk of 30
    assert report.planned == 30 and report.enqueued == len(store.outbox) >= 30
    assert all(due_at is None or due_at > LATER for _, due_at in store.reminders.values())


def outbound(key: str, conversation_id: str) -> OutboundMessage:
    return OutboundMessage(dedupe_key=key, war_room_id=1, tenant_id="tenant-1", service_url="https://smba.example/", kind="message",
                           conversation_id=conversation_id, bot_id=None, card={})


async def test_a_delivery_round_records_how_each_message_ended() -> None:
    store = FakeStore()
    uow_factory = FakeUnitOfWorkFactory(store)
    async with uow_factory() as uow:
        await uow.outbox.enqueue_many(
            [outbound(key, conversation_id) for key, conversation_id in (("a", "19:one"), ("b", "19:two"), ("c", "19:three"))], now=LATER
        )
        await uow.commit()
    sender = FakeSender({"19:two": DeliveryOutcome(kind="retry", retry_after=30, error="503"),
                         "19:three": DeliveryOutcome(kind="failed", error="403 Forbidden")})
    scheduler = Scheduler(uow_factory=uow_factory, sender=sender, sleep=FakeSleep(FrozenClock(LATER)))
    report = TickReport()
    await scheduler.deliver(LATER, report)

    assert sorted(sender.given) == ["a", "b", "c"] and (report.sent, report.retried, report.failed) == (1, 1, 1)
    ends = {record.message.dedupe_key: record for record in store.outbox.values()}
    assert (ends["a"].status, ends["a"].sent_at, ends["a"].sent_activity_id, ends["a"].attempts) == ("sent", LATER, "activity-a", 1)
    assert (ends["b"].status, ends["b"].next_attempt_at, ends["b"].last_error, ends["b"].attempts) == (
        "pending", LATER + timedelta(seconds=30), "503", 1)
    assert (ends["c"].status, ends["c"].last_error, ends["c"].attempts) == ("failed", "403 Forbidden", 1)
    assert all(record.claimed_until is None for record in store.outbox.values())


async def test_a_send_keeps_its_slot_until_its_end_is_recorded_so_a_crash_resends_at_most_the_slots() -> None:
    """A crash (kill -9) re-sends what was sent and not yet recorded: never more messages than send slots."""
    store = FakeStore()
    uow_factory = FakeUnitOfWorkFactory(store)
    async with uow_factory() as uow:
        await uow.outbox.enqueue_many([outbound(f"m{n}", f"19:c{n}") for n in range(12)], now=LATER)
        await uow.commit()
    delivered: list[str] = []
    unrecorded_at_each_send: list[int] = []

    class SlowSender:
        async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
            sent = {record.message.dedupe_key for record in store.outbox.values() if record.status == "sent"}
            unrecorded_at_each_send.append(len([key for key in delivered if key not in sent]))
            await asyncio.sleep(0)  # the send's network round trip: other sends and writes run meanwhile
            delivered.append(item.dedupe_key)
            return DeliveryOutcome(kind="sent", activity_id=f"activity-{item.dedupe_key}")

    scheduler = Scheduler(uow_factory=uow_factory, sender=SlowSender(), config=SchedulerConfig(concurrency=3),
                          sleep=FakeSleep(FrozenClock(LATER)))
    report = TickReport()
    await scheduler.deliver(LATER, report)

    assert report.sent == 12 and all(record.status == "sent" for record in store.outbox.values())
    # Besides the send starting now, at most the other slots' sends can be out and unrecorded.
    assert max(unrecorded_at_each_send) <= 2
