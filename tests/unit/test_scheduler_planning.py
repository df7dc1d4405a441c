"""bot/scheduler.py's reminder planning on the in-memory unit of work: a large chunk still frees the event loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.messages import OutboxItem
from bot.domain.ports import DeliveryOutcome
from bot.domain.reminders import ReminderState
from bot.scheduler import Scheduler, SchedulerConfig, TickReport
from tests.support.factories import RAISED_AT, make_conversation, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWorkFactory
from tests.support.scene import open_war_room

LATER = RAISED_AT + timedelta(hours=1)  # a Sev 1 raised then is overdue for acknowledgement


class FakeSender:
    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        raise AssertionError("planning sends nothing")


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
