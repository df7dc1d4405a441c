"""bot/services/triage.py on the in-memory unit of work: triage commands, stale cards, snoozing, finding and listing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.domain.model import HandledBy, IssueQuery, Person, ResolutionType, Role, Severity, Status
from bot.domain.reminders import ReminderState
from bot.domain.results import Applied, NotFound, Refused, Stale, TriageResult
from bot.domain.events import MERGED, SNOOZED, Event
from bot.domain.triage import Acknowledge, ChangeSeverity, MarkDuplicate, Reopen, Resolve, Take, TriageCommand
from bot.domain.war_room import WarRoom
from bot.services.triage import attach_card, find_issue, issue_history, list_issues, snooze_reminders, triage_issue
from tests.support.factories import OMAR, PRIYA, make_conversation, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.fakes.issues import FakeIssues
from tests.support.scene import ANOTHER_TEAM, CHANNEL, LENA, NO_ADMINS, NOW, open_war_room, resolved_by_support

# Omar is on call; Lena leads triage; Priya reported #12 and holds no role.
ISSUE = make_issue()


@pytest.fixture(autouse=True)
def people(store: FakeStore, room: WarRoom) -> None:
    store.grant(room.id, OMAR, Role.ONCALL)
    store.grant(room.id, LENA, Role.TRIAGE_LEAD)
    store.add_issue(ISSUE)


async def triage(uow: FakeUnitOfWork, command: TriageCommand, *, actor: Person = OMAR, **where: Any) -> TriageResult:
    """The command by Omar on #12, unless told who and which (`issue_id=1, card_version=1` for a card's button)."""
    target = where or {"number": 12}
    return await triage_issue(uow=uow, now=NOW, conversation=CHANNEL, actor=actor, command=command, admins=NO_ADMINS, **target)


async def test_acknowledging_by_number_writes_the_next_version_and_its_event(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await triage(uow, Acknowledge())

    assert isinstance(result, Applied) and result.subject.status is Status.ACKNOWLEDGED and result.subject.version == 2
    assert store.issues[1].acknowledged_by == OMAR and store.issues[1].version == 2
    assert [(e.verb, e.from_value, e.to_value) for e in store.events_of(1)] == [("ack", "new", "acknowledged")]
    assert store.events[0].version == 2 and uow.commits == 1


async def test_a_button_on_a_current_card_applies(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await triage(uow, Take(), issue_id=1, card_version=1)

    assert isinstance(result, Applied) and store.issues[1].assignee == OMAR and store.issues[1].status is Status.IN_PROGRESS


async def test_someone_without_a_role_is_refused_and_nothing_is_written(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await triage(uow, Acknowledge(), actor=PRIYA)

    assert isinstance(result, Refused) and result.subject == ISSUE
    assert result.reason == "To acknowledge issues you need the role floor_walker, oncall, partner, support or triage_lead. An admin can give it with `roles add`."
    assert store.issues[1] == ISSUE and store.events == [] and uow.commits == 0


async def test_an_admin_named_by_the_operator_may_act_without_a_stored_role(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await triage_issue(
        uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, number=12, command=Reopen(reason="again"),
        admins=frozenset({"aad-priya"}),
    )

    assert isinstance(result, Refused) and result.reason == "#12 is new, so you cannot reopen it now."  # allowed, but not from new


async def test_a_refusal_about_one_input_names_the_field(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await triage(uow, Resolve(notes="Fixed it.", resolution_type=ResolutionType.FIXED, handled_by=HandledBy.SUPPORT))

    assert isinstance(result, Refused) and result.field == "handled_by" and store.issues[1].status is Status.NEW


@pytest.mark.parametrize("where", [{"number": 99}, {"issue_id": 99, "card_version": 1}])
async def test_an_issue_that_does_not_exist_is_not_found(uow: FakeUnitOfWork, where: dict[str, int]) -> None:
    result = await triage(uow, Acknowledge(), **where)

    assert isinstance(result, NotFound) and result.reason.startswith("There is no issue")


async def test_another_war_rooms_issue_is_not_found_and_stays_as_it_was(uow: FakeUnitOfWork, store: FakeStore) -> None:
    other = await open_war_room(store, ANOTHER_TEAM)
    store.add_issue(make_issue(id=2, war_room_id=other.id, number=1))

    result = await triage(uow, Acknowledge(), issue_id=2, card_version=1)

    assert result == NotFound(reason="There is no issue like that in this war room.")
    assert store.issues[2].status is Status.NEW and store.events == []


async def test_an_old_card_is_stale_and_says_who_changed_the_issue_since(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await triage(uow, Take(), actor=LENA)

    result = await triage(uow, Acknowledge(), issue_id=1, card_version=1)

    assert result == Stale(subject=store.issues[1], change="Lena Berg took this just now.")
    assert store.issues[1].version == 2 and len(store.events) == 1


async def test_the_same_click_sent_again_is_stale_without_a_change_to_tell(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await triage(uow, Acknowledge(), issue_id=1, card_version=1)

    again = await triage(uow, Acknowledge(), issue_id=1, card_version=1)

    assert again == Stale(subject=store.issues[1], change=None) and len(store.events) == 1


async def test_a_card_newer_than_any_event_is_just_out_of_date(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await triage(uow, Acknowledge(), issue_id=1, card_version=5)

    assert result == Stale(subject=ISSUE, change="This card was out of date.")


async def test_a_write_racing_ours_is_stale_and_rolled_back(store: FakeStore) -> None:
    class RacedIssues(FakeIssues):
        """Another replica writes the issue between our read and our save."""

        async def save(self, issue, *, expected_version, known_followers=None):  # type: ignore[no-untyped-def]
            current = self._store.issues[issue.id]
            self._store.issues[issue.id] = current.model_copy(update={"version": current.version + 1, "assignee": LENA})
            return await super().save(issue, expected_version=expected_version, known_followers=known_followers)

    uow = FakeUnitOfWork(store)
    uow.issues = RacedIssues(uow._open_store)

    result = await triage(uow, Acknowledge(), issue_id=1, card_version=1)

    assert isinstance(result, Stale) and result.change == "Someone changed this issue at the same moment."
    assert result.subject.assignee == LENA
    assert store.issues[1] == ISSUE and store.events == [] and uow.commits == 0


async def test_resolving_tells_the_reporter_and_followers_and_can_save_a_runbook(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.issues[1] = ISSUE.model_copy(update={"followers": (LENA,)})
    command = Resolve(notes="Added the posting profile.", resolution_type=ResolutionType.CONFIGURATION_CHANGED, save_as_runbook=True)

    result = await triage(uow, command)

    assert isinstance(result, Applied) and result.notify == (PRIYA, LENA)
    assert result.notice == "Resolved: #12 AP cannot post vendor invoices (Configuration changed).\nAdded the posting profile."
    assert store.issues[1].status is Status.RESOLVED and store.reminders[1][1] is None
    [runbook] = store.runbooks.values()
    assert (runbook.title, runbook.steps, runbook.owner, runbook.issue_ids) == (ISSUE.title, "Added the posting profile.", OMAR, (1,))


async def test_reopening_starts_the_reminders_afresh_now(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(resolved_by_support(reporter=PRIYA))
    store.reminders[1] = (ReminderState(kind="open", seq=3, generation=1, snoozed_until=NOW + timedelta(hours=1)), None)

    result = await triage(uow, Reopen(reason="It is back."), actor=PRIYA)  # the reporter may reopen their own

    assert isinstance(result, Applied) and store.issues[1].status is Status.REOPENED and store.issues[1].resolution is None
    assert store.reminders[1] == (ReminderState(kind=None, seq=0, generation=2, ack_escalated=True), NOW)


async def test_raising_the_severity_rebases_the_reminders_and_announces_a_sev1(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.issues[1] = ISSUE.model_copy(update={"severity": Severity.SEV2})

    result = await triage(uow, ChangeSeverity(severity=Severity.SEV1, reason="Month-end is blocked"), actor=LENA)

    assert isinstance(result, Applied) and result.announcement == "#12 raised to Sev 1 (was Sev 2) by Lena Berg: Month-end is blocked"
    assert store.issues[1].severity is Severity.SEV1
    state, due_at = store.reminders[1]
    assert (state.kind, state.generation, due_at) == ("unacknowledged", 1, NOW)


async def test_a_duplicate_hands_its_reporter_to_the_issue_it_duplicates(uow: FakeUnitOfWork, store: FakeStore) -> None:
    target = store.add_issue(make_issue(id=2, number=7, reporter=OMAR, card_activity_id="card-7"))

    result = await triage(uow, MarkDuplicate(of_number=7), actor=LENA)

    assert isinstance(result, Applied) and [issue.id for issue in result.also_changed] == [target.id]
    assert store.issues[1].status is Status.DUPLICATE and store.issues[1].duplicate_of == 7
    assert store.issues[2].followers == (PRIYA,) and store.issues[2].version == 2
    assert [e.verb for e in store.events_of(2)] == [MERGED] and store.events_of(2)[0].from_value == "#12"


async def test_a_duplicate_of_a_missing_issue_is_refused(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await triage(uow, MarkDuplicate(of_number=99), actor=LENA)

    assert isinstance(result, Refused) and result.reason == "There is no issue #99 in this war room." and store.events == []


async def test_on_call_snoozes_an_open_issue_until_now_plus_the_period(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await snooze_reminders(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, issue_id=1, period=timedelta(hours=2), admins=NO_ADMINS)

    until = NOW + timedelta(hours=2)
    assert isinstance(result, Applied) and result.event is not None and result.event.verb == SNOOZED
    assert store.reminders[1] == (ReminderState(snoozed_until=until), until)
    assert [(stored.issue_id, stored.event.verb, stored.event.actor) for stored in store.events] == [(1, SNOOZED, OMAR)]
    assert uow.commits == 1


async def test_someone_without_the_role_may_not_snooze_and_the_reminders_stay(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await snooze_reminders(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, issue_id=1, period=timedelta(hours=2), admins=NO_ADMINS)

    assert isinstance(result, Refused) and result.reason == "To snooze reminders you need the role oncall or triage_lead."
    assert store.reminders[1] == (ReminderState(), None) and store.events == [] and uow.commits == 0


async def test_a_resolved_issue_gets_no_more_reminders(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(resolved_by_support())

    result = await snooze_reminders(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, issue_id=1, period=timedelta(hours=2), admins=NO_ADMINS)

    assert isinstance(result, Refused) and result.reason == "#12 is resolved: no more reminders."


async def test_another_war_rooms_issue_cannot_be_snoozed(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(make_issue(war_room_id=99))

    result = await snooze_reminders(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, issue_id=1, period=timedelta(hours=2), admins=NO_ADMINS)

    assert result == NotFound(reason="There is no issue like that in this war room.") and store.events == []


async def test_an_issue_is_found_by_number_or_id_in_its_own_war_room_only(uow: FakeUnitOfWork, store: FakeStore) -> None:
    other = await open_war_room(store, ANOTHER_TEAM)
    store.add_issue(make_issue(id=2, war_room_id=other.id, number=12))

    assert await find_issue(uow=uow, conversation=CHANNEL, number=12) == ISSUE
    assert await find_issue(uow=uow, conversation=CHANNEL, issue_id=1) == ISSUE
    assert await find_issue(uow=uow, conversation=CHANNEL, issue_id=2) is None
    assert await find_issue(uow=uow, conversation=make_conversation(team_id="19:unknown"), number=12) is None


async def test_the_history_is_the_issue_and_its_events(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await triage(uow, Acknowledge())

    found = await issue_history(uow=uow, conversation=CHANNEL, number=12)

    assert found is not None and found[0].version == 2
    assert found[1] == [Event(verb="ack", actor=OMAR, at=NOW, from_value="new", to_value="acknowledged")]
    assert await issue_history(uow=uow, conversation=CHANNEL, number=99) is None


async def test_a_list_filters_and_counts(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(make_issue(id=2, number=13, severity=Severity.SEV3, assignee=OMAR, status=Status.IN_PROGRESS))
    store.add_issue(resolved_by_support(id=3, number=14))

    everything = await list_issues(uow=uow, now=NOW, conversation=CHANNEL, query=IssueQuery())
    mine = await list_issues(uow=uow, now=NOW, conversation=CHANNEL, query=IssueQuery(assignee_id="aad-omar"))
    nowhere = await list_issues(uow=uow, now=NOW, conversation=ANOTHER_TEAM, query=IssueQuery())

    assert ([i.number for i in everything[0]], everything[1]) == ([12, 13], 2)
    assert [i.number for i in mine[0]] == [13]
    assert nowhere == ([], 0)


async def test_a_posted_card_is_attached_to_its_issue_and_thread(uow: FakeUnitOfWork, store: FakeStore) -> None:
    thread = CHANNEL.model_copy(update={"conversation_id": "19:general@thread.tacv2;messageid=555"})

    await attach_card(uow=uow, now=NOW, issue_id=1, activity_id="card-555", thread=thread)

    assert (store.issues[1].card_activity_id, store.issues[1].conversation_id) == ("card-555", thread.conversation_id)
    assert store.conversations[thread.conversation_id] == (thread, 1) and uow.commits == 1


async def test_a_card_is_never_attached_to_another_war_rooms_issue(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await attach_card(uow=uow, now=NOW, issue_id=1, activity_id="card-555", thread=ANOTHER_TEAM)

    assert store.issues[1] == ISSUE and store.conversations == {} and uow.commits == 0
