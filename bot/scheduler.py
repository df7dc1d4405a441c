"""Background work. `tick(now)` does one pass; the loop around it only ticks and sleeps.

One pass: plan due reminders and escalations into the outbox, close the resolutions nobody confirmed in
time, enqueue due stand-ups, deliver the outbox. Every message goes through the outbox with a unique dedupe key, so a job seen by several
ticks or replicas is enqueued once; delivery claims rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL)
and keeps Teams' rate limits.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Person, Role
from bot.domain.ports import Clock, DeliveryOutcome, DueWork, Sender, UnitOfWork
from bot.domain.reminders import Plan, RemindedIssue, ReminderState, pause_reminders, plan_reminders, who_to_tell
from bot.domain.standup import StandupNotices, asked_to_set_up, standup_notices
from bot.domain.war_room import WarRoom
from bot.domain.messages import ConversationRef, OutboundMessage, OutboxItem, Settled
from bot.observability.logs import WAR_ROOM_ID, new_request_id, request_context
from bot.observability.metrics import Metrics
from bot.ratelimit import SendLimiter
from bot.services.charts import keep_chart_of
from bot.services.intake import purge_processed_activities
from bot.services.signoff import close_unconfirmed
from bot.services.standup import standup_summary, standup_told
from cards.phase import render_ready_for_sign_off
from cards.reminders import render_reminder
from cards.standup import render_standup

log = logging.getLogger(__name__)

T = TypeVar("T")


class SchedulerConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    batch: int = 500
    # Due issues planned per transaction: each chunk is a handful of statements whatever its size, so a large one saves
    # round trips; the event loop is freed every `plan_yield` issues within it.
    plan_chunk: int = 500
    plan_yield: int = 10
    # Due stand-ups built per transaction and per tick: a stand-up costs far more than a reminder, and those whose minute
    # has come go out between chunks.
    standup_chunk: int = 20
    # How long a claimed message is held by one worker before another may take it: the at-least-once window.
    lease: timedelta = timedelta(seconds=60)
    # With backoff capped at 5 minutes, 20 attempts ride out an outage of about an hour.
    max_attempts: int = 20
    backoff_base: timedelta = timedelta(seconds=2)
    backoff_max: timedelta = timedelta(minutes=5)
    # A stand-up this late is not posted (yesterday's news at lunchtime helps nobody).
    standup_grace: timedelta = timedelta(hours=2)
    # A stand-up is prepared up to this long before its minute and queued to be sent at the minute, so that a minute
    # shared by many war rooms (1,000 take tens of seconds to build) costs no delay. Its card reads the minute's clock
    # (breached targets, phase day, "raised … ago") and the issues as they were when it was prepared: a change in the
    # last `standup_lead` shows in the next stand-up instead (docs/performance-scheduler.md, "Round three").
    standup_lead: timedelta = timedelta(minutes=2)
    # A delivery pass waits in place for the rate limit up to this; longer waits are rescheduled.
    max_inline_wait: timedelta = timedelta(seconds=2)
    delivery_rounds: int = 50
    # Messages to different conversations sent at the same time.
    concurrency: int = 16
    # An issue whose reminders could not be planned (a fault, logged once) is tried again after this.
    failed_plan_retry: timedelta = timedelta(minutes=15)


class TickReport(BaseModel):
    planned: int = 0
    enqueued: int = 0
    standups: int = 0
    standups_skipped: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # A pass stopped at its batch limit with more due: the loop ticks again at once instead of sleeping.
    more_due: bool = False
    auto_closed: int = 0


class Scheduler:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        sender: Sender,
        config: SchedulerConfig | None = None,
        limiter: SendLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        dedupe_retention: timedelta = timedelta(hours=48),
        chart_url: Callable[[int, int], str] | None = None,
        transient: Callable[[BaseException], bool] = lambda error: False,
        metrics: Metrics | None = None,
    ) -> None:
        """`transient`: whether an error means the database is away (every pass would fail: the tick stops).
        `chart_url`: the link to a war room's kept chart figures (war room id, chart id); None: no chart."""
        self._uow_factory = uow_factory
        self._sender = sender
        self._config = config or SchedulerConfig()
        self._limiter = limiter or SendLimiter()
        self._sleep = sleep
        self._dedupe_retention = dedupe_retention
        self._chart_url = chart_url
        self.transient = transient
        self._metrics = metrics or Metrics()
        # Faults already logged: a broken war room, issue or message is met again on every tick.
        self._logged: set[str] = set()

    async def tick(self, now: datetime) -> TickReport:
        """One pass, under a request id of its own (its log lines and Bot Connector calls carry it), measured."""
        with request_context(new_request_id()):
            started = time.perf_counter()
            report = TickReport()
            try:
                await self._passes(now, report)
            except Exception:
                self._metrics.ticks.labels("unavailable").inc()
                raise
            finally:
                self._measure(report, time.perf_counter() - started)
            self._metrics.ticks.labels("ok").inc()
            self._metrics.last_tick.set(now.timestamp())
            return report

    async def _passes(self, now: datetime, report: TickReport) -> None:
        # One statement says which passes have work: an idle tick is this one round trip. None: it failed, run them all.
        due = await self._isolated("probe", lambda: self._probe(now))
        passes: list[tuple[str, Callable[[], bool], Callable[[], Awaitable[None]]]] = [
            ("reminders", lambda: due is None or due.reminders, lambda: self.plan_reminders(now, report)),
            ("auto-close", lambda: due is None or due.closings, lambda: self.close_unconfirmed(now, report)),
            ("stand-ups", lambda: due is None or due.standups, lambda: self.enqueue_standups(now, report)),
            # What the passes before queued is due now, whatever the probe saw (asked when its turn comes).
            ("delivery", lambda: due is None or due.deliveries or report.enqueued > 0 or report.standups > 0,
             lambda: self.deliver(now, report)),
            ("purge", lambda: due is None or due.purge, lambda: self._forget_old_activities(now)),
        ]
        ran = False
        for name, needed, run in passes:
            if needed():
                ran = True
                await self._isolated(name, run)
        if due is not None and not ran:
            self._metrics.outbox(due.outbox, now)  # nothing changed since the probe read the gauges
            return
        await self._isolated("outbox", lambda: self._outbox_stats(now))

    async def _isolated(self, name: str, run: Callable[[], Awaitable[T]]) -> T | None:
        """A pass; a fault no war room or message was isolated from is logged and the other passes still run."""
        try:
            return await run()
        except Exception as error:
            if self.transient(error):
                raise
            self._metrics.pass_failures.labels(name).inc()
            self._log_once(f"pass:{name}:{error!r}", logging.ERROR, "the scheduler's %s pass failed; the others went on: %r",
                           name, error, error=error)
            return None

    async def _probe(self, now: datetime) -> DueWork:
        async with self._uow_factory() as uow:
            return await uow.due.probe(now, purge_before=now - self._dedupe_retention, standups_until=now + self._config.standup_lead)

    async def _outbox_stats(self, now: datetime) -> None:
        """The outbox gauges, refreshed here so that a scrape never queries the database."""
        async with self._uow_factory() as uow:
            self._metrics.outbox(await uow.outbox.stats(), now)

    def _measure(self, report: TickReport, seconds: float) -> None:
        self._metrics.tick_seconds.observe(seconds)
        self._metrics.reminders_queued.inc(report.enqueued)
        self._metrics.standups.labels("queued").inc(report.standups)
        self._metrics.standups.labels("skipped").inc(report.standups_skipped)

    # -- reminders and escalations --------------------------------------------------------------

    async def plan_reminders(self, now: datetime, report: TickReport) -> None:
        """Due issues in small chunks, each one transaction with a handful of statements.

        Small chunks keep the event loop free between them; reads and writes are batched per chunk.
        """
        planned = 0
        while planned < self._config.batch:
            chunk = await self._plan_chunk(now, report)
            planned += chunk
            if chunk < self._config.plan_chunk:
                return
            await asyncio.sleep(0)
        report.more_due = True

    async def _plan_chunk(self, now: datetime, report: TickReport) -> int:
        async with self._uow_factory() as uow:
            due = await uow.issues.due(now, limit=self._config.plan_chunk)
            if not len(due):
                return 0
            retry_at = now + self._config.failed_plan_retry
            for issue_id, problem in due.unreadable:
                self._log_once(f"read:{issue_id}:{problem}", logging.ERROR,
                               "issue %s cannot be read (%s); its reminders are tried again from %s", issue_id, problem, retry_at.isoformat())
            await uow.issues.hold_back([issue_id for issue_id, _ in due.unreadable], until=retry_at)
            due_issues = due.issues
            if not due_issues:
                await uow.commit()
                return len(due)
            rooms = {room.id: room for room in await uow.war_rooms.get_many({issue.war_room_id for issue, _ in due_issues})}
            threads = await uow.conversations.get_many({issue.conversation_id for issue, _ in due_issues})
            leads = await uow.roles.holders(set(rooms), Role.TRIAGE_LEAD)
            messages: list[OutboundMessage] = []
            states: list[tuple[int, ReminderState, datetime | None]] = []
            for index, (issue, state) in enumerate(due_issues):
                if index and index % self._config.plan_yield == 0:
                    await asyncio.sleep(0)  # the transaction waits a moment; web turns and sends do not wait for the chunk
                room = rooms[issue.war_room_id]
                self._tell_of_settings(room)
                if room.signed_off_at is not None:  # hypercare is over: held, not looked at again until a withdrawal
                    states.append((issue.id, pause_reminders(state), None))
                    continue
                try:
                    plan, reminders = self._reminders(issue, state, room, threads.get(issue.conversation_id), leads.get(room.id, ()), now)
                except Exception as error:  # one issue's fault must not hold up the reminders of every war room
                    self._log_once(f"plan:{issue.id}:{error!r}", logging.ERROR,
                                   "reminders of issue %s (#%s, war room %s) could not be planned, tried again from %s: %r",
                                   issue.id, issue.number, room.key, retry_at.isoformat(), error, error=error)
                    states.append((issue.id, state, retry_at))
                    continue
                messages += reminders
                states.append((issue.id, plan.state, plan.next_due_at))
            report.enqueued += await uow.outbox.enqueue_many(messages, now=now)
            await uow.issues.save_reminders_many(states)
            await uow.commit()
        report.planned += len(due_issues)
        return len(due)

    def _reminders(
        self, issue: RemindedIssue, state: ReminderState, room: WarRoom, thread: ConversationRef | None, leads: tuple[Person, ...], now: datetime
    ) -> tuple[Plan, list[OutboundMessage]]:
        plan = plan_reminders(issue, state, rule=room.settings.policy.rule(issue.severity), calendar=room.settings.calendar, now=now)
        if thread is None:
            if plan.due:
                log.error("issue %s has no stored conversation to remind in", issue.id)
            return plan, []
        return plan, [
            OutboundMessage(
                dedupe_key=due.dedupe_key,
                war_room_id=room.id,
                tenant_id=room.tenant_id,
                service_url=thread.service_url,
                kind="message",
                conversation_id=issue.conversation_id,
                bot_id=thread.bot_id,
                card=render_reminder(due, issue, notify=who_to_tell(due, issue, on_call=room.oncall.on_call(now, room.settings.calendar), leads=leads), now=now),
            )
            for due in plan.due
        ]

    async def close_unconfirmed(self, now: datetime, report: TickReport) -> None:
        """Resolutions nobody confirmed in the war room's working days close by themselves (before the stand-up, which
        then lists them as closed)."""
        report.auto_closed += len(await close_unconfirmed(uow=self._uow_factory(), now=now, limit=self._config.batch))

    # -- stand-ups ---------------------------------------------------------------------------

    async def enqueue_standups(self, now: datetime, report: TickReport) -> None:
        """One chunk of the stand-ups due within `standup_lead`, in one transaction (a fault rolls back that chunk only),
        each queued to be sent at its minute. One chunk a tick: while more are due the loop ticks again at once, so the
        delivery pass sends the stand-ups whose minute has come between chunks instead of after all of them."""
        if await self._standup_chunk(now, report) >= self._config.standup_chunk:
            report.more_due = True

    async def _standup_chunk(self, now: datetime, report: TickReport) -> int:
        async with self._uow_factory() as uow:
            rooms = await uow.war_rooms.due_standups(now + self._config.standup_lead, limit=self._config.standup_chunk)
            people = await _StandupPeople.of(uow, {room.id for room in rooms}) if rooms else _StandupPeople()
            for index, room in enumerate(rooms):
                if index:
                    await asyncio.sleep(0)  # a build holds the loop for milliseconds: web turns go in between war rooms
                assert room.next_standup_at is not None
                self._tell_of_settings(room)
                scheduled = room.next_standup_at
                # Prepared ahead, the stand-up speaks as of its minute; posted late (a tick missed), as of now.
                at = max(now, scheduled)
                next_at = room.next_standup(at)
                if next_at is None:  # it holds none any more (a chat not set up, a personal chat, signed off)
                    await uow.war_rooms.standup_done(room.id, posted_at=None, next_at=None)
                    continue
                if now - scheduled > self._config.standup_grace:
                    log.warning("stand-up of war room %s due at %s was missed by more than %s; not posted late",
                                room.key, scheduled.isoformat(), self._config.standup_grace)
                    await uow.war_rooms.standup_done(room.id, posted_at=None, next_at=next_at)
                    report.standups_skipped += 1
                    continue
                if room.home_service_url and room.home_conversation_id:
                    try:
                        messages, notices = await self._standup(uow, room, scheduled, at, people)
                    except Exception as error:  # one war room's fault must not hold up everyone's stand-up
                        self._log_once(f"standup:{room.id}:{error!r}", logging.ERROR,
                                       "stand-up of war room %s could not be prepared; skipped until the next one: %r",
                                       room.key, error, error=error)
                        await uow.war_rooms.standup_done(room.id, posted_at=None, next_at=next_at)
                        report.standups_skipped += 1
                        continue
                    await uow.outbox.enqueue_many(messages, now=now, send_at=at)
                    # In the stand-up's own transaction: what is said once is marked said by whoever queues it.
                    if (notices.overrun_told_for, notices.ready_told_at) != (room.overrun_told_for, room.ready_told_at):
                        await uow.war_rooms.save_told(room.id, overrun_told_for=notices.overrun_told_for, ready_told_at=notices.ready_told_at)
                    report.standups += 1
                await uow.war_rooms.standup_done(room.id, posted_at=now, next_at=next_at)
            await uow.commit()
        return len(rooms)

    async def _standup(
        self, uow: UnitOfWork, room: WarRoom, scheduled: datetime, now: datetime, people: _StandupPeople
    ) -> tuple[list[OutboundMessage], StandupNotices]:
        """The stand-up, and "ready for sign-off" after it when that is news."""
        summary = await standup_summary(uow, room, now=now)
        assert summary.exit_report is not None
        notices = standup_notices(room, summary.exit_report, now=now)
        leadership = people.leadership.get(room.id, ())
        chart_id = await keep_chart_of(uow, room, now=now) if self._chart_url else None
        card = render_standup(
            summary,
            chart_url=self._chart_url(room.id, chart_id) if self._chart_url and chart_id is not None else None,
            chart_id=chart_id,
            participants=await standup_told(uow, room, summary),
            asked=asked_to_set_up(people.admins.get(room.id, ()), people.leads.get(room.id, ())) if notices.setup_prompt else (),
            leadership=leadership if notices.overrun_mention else (),
        )
        local_day = room.settings.calendar.local_date(scheduled).isoformat()
        messages = [to_home(room, card, dedupe_key=f"standup:{room.id}:{local_day}")]
        if notices.ready_for_sign_off:
            ready = render_ready_for_sign_off(summary.exit_report, war_room_name=room.display_name, leadership=leadership)
            messages.append(to_home(room, ready, dedupe_key=f"ready:{room.id}:{local_day}"))
        return messages, notices

    # -- delivery ----------------------------------------------------------------------------

    async def deliver(self, now: datetime, report: TickReport) -> None:
        """Send what is due, many conversations at once, keeping the rate limits.

        `now` moves on only by the time this pass waited. A conversation gets at most one message per
        round (the claim returns queue heads), so its order holds. A send keeps its slot until its outcome is recorded,
        so a crash re-sends at most `concurrency` messages; the outcomes that end meanwhile are recorded together
        (`_Recorder`), not one transaction per message.
        """
        current = now
        for _ in range(self._config.delivery_rounds):
            async with self._uow_factory() as uow:
                items = await uow.outbox.claim(current, limit=self._config.batch, lease=self._config.lease)
                await uow.commit()
            if not items:
                return
            in_flight = asyncio.Semaphore(self._config.concurrency)
            recorder = _Recorder(lambda ends: self._record(ends, report))
            held: list[_End] = []
            sends = []
            longest = timedelta()
            for item in items:
                wait = self._limiter.wait(item.conversation_id, item.tenant_id, current)
                if wait > self._config.max_inline_wait:
                    held.append((item, DeliveryOutcome(kind="retry", retry_after=wait.total_seconds(), error="rate limit"), current, False))
                    continue
                # The slot is taken now, before sending, so concurrent sends cannot overrun a limit together.
                self._limiter.record(item.conversation_id, item.tenant_id, current + wait)
                longest = max(longest, wait)
                sends.append(self._send(item, wait, current + wait, in_flight, recorder))
            await asyncio.gather(*sends)
            if held:
                await self._record(held, report)
            current += longest

    async def _send(
        self, item: OutboxItem, wait: timedelta, at: datetime, in_flight: asyncio.Semaphore, recorder: _Recorder
    ) -> None:
        WAR_ROOM_ID.set(item.war_room_id)  # this send runs in a task of its own (gather)
        async with in_flight:
            if wait > timedelta():
                await self._sleep(wait.total_seconds())
            try:
                outcome = await self._sender.deliver(item)
            except Exception as error:  # one message's fault must not stop the others; the outbox tries it again
                self._log_once(f"deliver:{item.conversation_id}:{type(error).__name__}", logging.ERROR,
                               "outbox message %s (%s) could not be sent, tried again later: %r", item.id, item.dedupe_key, error,
                               error=error)
                outcome = DeliveryOutcome(kind="retry", error=repr(error)[:500])
            await recorder.add((item, outcome, at, True))

    async def _record(self, ends: list[_End], report: TickReport) -> None:
        """Each message's end, `attempted=False` when it was only held back by a rate limit, in one transaction."""
        results: list[Settled] = []
        for item, outcome, at, attempted in ends:
            given_up = outcome.kind == "failed" or item.attempts + 1 >= self._config.max_attempts
            if outcome.kind == "sent":
                results.append(Settled(item_id=item.id, kind="sent", at=at, activity_id=outcome.activity_id))
            elif given_up:
                results.append(Settled(item_id=item.id, kind="failed", at=at, error=outcome.error))
            else:
                at += self._retry_delay(item.attempts + 1, outcome.retry_after)
                results.append(Settled(item_id=item.id, kind="retry", at=at, error=outcome.error, attempted=attempted))
        async with self._uow_factory() as uow:
            await uow.outbox.settle(results)
            await uow.commit()
        for (item, _, _, _), result in zip(ends, results):
            if result.kind == "failed":
                token = WAR_ROOM_ID.set(item.war_room_id)  # the line names its war room, as the send's own lines do
                try:
                    log.error("outbox message %s (%s) failed for good: %s", item.id, item.dedupe_key, result.error)
                finally:
                    WAR_ROOM_ID.reset(token)
            report.sent += result.kind == "sent"
            report.failed += result.kind == "failed"
            report.retried += result.kind == "retry"
            self._metrics.delivery(item.dedupe_key, result.kind)

    def _retry_delay(self, attempt: int, retry_after: float | None) -> timedelta:
        if retry_after is not None:
            return timedelta(seconds=retry_after)
        ceiling = min(self._config.backoff_max, self._config.backoff_base * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)

    def _tell_of_settings(self, room: WarRoom) -> None:
        if room.settings_problems:
            self._log_once(f"settings:{room.id}:{room.settings_problems}", logging.WARNING,
                           "war room %s has stored settings that today's rules refuse, so defaults stand in: %s. "
                           "Its admin can save them again with `setup`, or run `hypercare settings --war-room %s --set ...`",
                           room.key, " | ".join(room.settings_problems), room.id)

    def _log_once(self, key: str, level: int, message: str, *args: object, error: BaseException | None = None) -> None:
        """Log a fault in full the first time; after that only at debug level (it is met again every tick)."""
        first = key not in self._logged
        self._logged.add(key)
        log.log(level if first else logging.DEBUG, message, *args, exc_info=error if first else None)

    async def _forget_old_activities(self, now: datetime) -> None:
        # Re-deliveries come within minutes; ids older than the retention window only take space.
        await purge_processed_activities(uow=self._uow_factory(), older_than=now - self._dedupe_retention)


# A claimed message's end: the message, how its send went, when, and whether it was attempted (not only held back).
_End = tuple[OutboxItem, DeliveryOutcome, datetime, bool]


class _Recorder:
    """Group commit of send outcomes: each sender waits until its own outcome is written, and whoever writes takes
    every outcome that ended while the previous write ran, in one transaction."""

    def __init__(self, write: Callable[[list[_End]], Awaitable[None]]) -> None:
        self._write = write
        self._queued: list[_End] = []
        self._writing = asyncio.Lock()

    async def add(self, end: _End) -> None:
        self._queued.append(end)
        async with self._writing:
            if self._queued:  # empty: a write that ran while this one waited took it
                ends, self._queued = self._queued, []
                await self._write(ends)


class _StandupPeople(BaseModel):
    """The role holders the due stand-ups may @mention, per war room, read once a pass."""

    model_config = ConfigDict(frozen=True)

    admins: dict[int, tuple[Person, ...]] = {}
    leads: dict[int, tuple[Person, ...]] = {}
    leadership: dict[int, tuple[Person, ...]] = {}

    @classmethod
    async def of(cls, uow: UnitOfWork, war_room_ids: set[int]) -> _StandupPeople:
        return cls(
            admins=await uow.roles.holders(war_room_ids, Role.ADMIN),
            leads=await uow.roles.holders(war_room_ids, Role.TRIAGE_LEAD),
            leadership=await uow.roles.holders(war_room_ids, Role.LEADERSHIP),
        )


def to_home(room: WarRoom, card: dict[str, object], *, dedupe_key: str) -> OutboundMessage:
    """A message for the war room's home: in a team a new thread in the channel; in a chat a message."""
    assert room.home_service_url and room.home_conversation_id
    return OutboundMessage(
        dedupe_key=dedupe_key,
        war_room_id=room.id,
        tenant_id=room.tenant_id,
        service_url=room.home_service_url,
        kind="channel_post" if room.home_channel_id else "message",
        conversation_id=room.home_channel_id or room.home_conversation_id,
        bot_id=room.bot_id,
        card=card,
    )


async def post_standup_now(uow: UnitOfWork, room: WarRoom, *, now: datetime) -> bool:
    """Queue an extra stand-up for the war room's channel; the scheduler delivers it on its next pass."""
    if not (room.home_service_url and room.home_conversation_id):
        return False
    async with uow:
        card = render_standup(await standup_summary(uow, room, now=now))
        queued = await uow.outbox.enqueue(to_home(room, card, dedupe_key=f"standup:{room.id}:manual:{now.isoformat()}"), now=now)
        await uow.commit()
    return queued


async def run_scheduler(scheduler: Scheduler, clock: Clock, interval_seconds: float) -> None:
    """Tick forever; the database being away is one warning a tick, no traceback."""
    while True:
        more_due = False
        try:
            more_due = (await scheduler.tick(clock.now())).more_due
        except Exception as error:  # one failed tick must not stop the loop; the next tick retries
            if scheduler.transient(error):
                log.warning("scheduler tick skipped, the database is unavailable: %s", type(error).__name__)
            else:
                log.exception("scheduler tick failed")
        # A tick that left work due (a batch limit reached) is followed at once; a yield keeps the loop fair.
        await asyncio.sleep(0 if more_due else interval_seconds)
