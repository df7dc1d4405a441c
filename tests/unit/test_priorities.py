"""Agreeing priorities at the stand-up: what still needs a decision, who is @mentioned, scope discipline in words."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.domain.mentions import MENTIONS_PER_MESSAGE
from bot.domain.model import Person, Priority, PriorityDecision, Role, Severity, Status
from bot.domain.policy import SeverityPolicy
from bot.domain.priorities import StandupParticipants, chasing, scope_in_hypercare, scope_note, standup_mentions
from bot.domain.standup import build_standup, standup_text
from tests.support.factories import OMAR, PRIYA, make_issue

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LENA = Person(aad_object_id="aad-lena", name="Lena Berg")
KEPT = PriorityDecision(priority=Priority.KEEP, by=LENA, at=NOW, standup_on=date(2026, 11, 24))


def summary(*issues, decided=(), policy: SeverityPolicy = SeverityPolicy()):  # type: ignore[no-untyped-def]
    return build_standup(war_room_name="Go-live", open_issues=list(issues), recent=[], deferred_count=0, since=None, now=NOW,
                         standup_on=date(2026, 11, 24), policy=policy, decided=tuple(decided))


def test_an_issue_agreed_at_a_standup_no_longer_needs_a_decision_and_is_listed_as_agreed() -> None:
    waiting = make_issue(id=1, number=1, severity=Severity.SEV1, status=Status.NEW)
    agreed = make_issue(id=2, number=2, severity=Severity.SEV2, status=Status.REOPENED, decision=KEPT)

    standup = summary(waiting, agreed, decided=[agreed])

    assert [issue.number for issue, _ in standup.needs_decision] == [1]
    assert [issue.number for issue in standup.decided] == [2]
    assert "#2 Sev 2 AP cannot post vendor invoices — reopened" in standup_text(standup)
    assert "[kept in hypercare by Lena Berg]" in standup_text(standup)


def test_owners_of_breached_and_undecided_items_are_told_before_participants_each_once() -> None:
    breached = make_issue(id=1, number=1, severity=Severity.SEV3, status=Status.IN_PROGRESS, assignee=OMAR,
                          resolve_by=datetime(2026, 11, 23, tzinfo=UTC))
    undecided = make_issue(id=2, number=2, severity=Severity.SEV3, status=Status.REOPENED, assignee=PRIYA, resolve_by=None)
    standup = summary(breached, undecided)

    plan = standup_mentions(standup.owners_to_tell, [LENA, OMAR])

    assert plan.batches == ((OMAR, PRIYA, LENA),) and plan.others == 0


def test_a_big_war_room_is_mentioned_up_to_one_messages_worth_and_the_rest_counted() -> None:
    people = [Person(aad_object_id=f"aad-{n}", name=f"Person {n}") for n in range(500)]

    plan = standup_mentions([], people)

    assert len(plan.batches) == 1 and len(plan.batches[0]) == MENTIONS_PER_MESSAGE
    assert plan.others == 500 - MENTIONS_PER_MESSAGE


def test_scope_counts_open_sev3_and_sev4_with_their_owners_most_first() -> None:
    issues = [
        make_issue(id=1, number=1, severity=Severity.SEV3, assignee=PRIYA),
        make_issue(id=2, number=2, severity=Severity.SEV4, assignee=OMAR),
        make_issue(id=3, number=3, severity=Severity.SEV3, assignee=OMAR),
        make_issue(id=4, number=4, severity=Severity.SEV3),
        make_issue(id=5, number=5, severity=Severity.SEV2, assignee=OMAR),
    ]

    scope = scope_in_hypercare(issues)

    assert (scope.total, scope.owners, scope.unassigned) == (4, (("Omar Haddad", 2), ("Priya Shah", 1)), 1)
    assert "Sev 3/4 worked in hypercare: 4 (Omar Haddad 2, Priya Shah 1, unassigned 1)" in standup_text(summary(*issues))


def test_the_sev3_wording_follows_the_policy_that_chases_it() -> None:
    default = SeverityPolicy()
    chased = default.model_copy(update={"rules": default.rules | {
        Severity.SEV3: default.rule(Severity.SEV3).model_copy(update={"remind_open_every": default.rule(Severity.SEV2).remind_open_every,
                                                                      "remind_unacknowledged_every": None}),
    }})

    assert chasing(Severity.SEV3, default) == "reminded every working day until acknowledged, then reviewed at the stand-up and not chased"
    assert chasing(Severity.SEV3, chased) == "not reminded until acknowledged, then every working day while open"
    assert chasing(Severity.SEV1, default) == "reminded every 15 minutes until acknowledged, then every 2 hours while open"
    assert scope_note(Severity.SEV3, default) == (
        "Sev 3: annoying, not blocking. Fixed in weeks; reminded every working day until acknowledged, then reviewed at the "
        "stand-up and not chased."
    )
    assert "then every working day while open" in standup_text(summary(policy=chased))
    assert scope_note(Severity.SEV2, default) is None


def test_participants_default_to_the_triage_leads_and_say_who_they_are() -> None:
    assert StandupParticipants().roles == (Role.TRIAGE_LEAD,)
    assert StandupParticipants(roles=(Role.TRIAGE_LEAD, Role.ONCALL), people=(OMAR,)).describe() == "triage_lead, oncall; Omar Haddad"
    assert StandupParticipants(roles=()).describe() == "nobody"


def test_participants_are_set_with_hypercare_settings_and_refused_when_malformed() -> None:
    import pytest

    from bot.domain.war_room import WarRoomSettings, apply_setting_changes

    changed = apply_setting_changes(WarRoomSettings(), ["standup_participants=triage_lead,oncall", "standup_people=aad-omar:Omar Haddad"])

    assert changed.standup_participants == StandupParticipants(roles=(Role.TRIAGE_LEAD, Role.ONCALL), people=(OMAR,))
    assert apply_setting_changes(changed, ["standup_participants=none"]).standup_participants.roles == ()
    with pytest.raises(ValueError, match="standup_participants"):
        apply_setting_changes(WarRoomSettings(), ["standup_participants=chief"])
    with pytest.raises(ValueError, match="AAD object id"):
        apply_setting_changes(WarRoomSettings(), ["standup_people=Omar Haddad"])


def test_the_setup_form_sets_the_participants_roles_and_keeps_them_when_it_does_not_ask() -> None:
    from cards.phase import parse_setup
    from bot.domain.war_room import WarRoomSettings

    form = {"starts_on": "2026-11-23", "ends_on": "2026-12-18", "time_zone": "Europe/London", "working_days": "0,1,2,3,4"}

    chosen = parse_setup(form | {"standup_roles": "triage_lead,partner"}, WarRoomSettings())
    older = parse_setup(form, WarRoomSettings())

    assert isinstance(chosen, WarRoomSettings) and chosen.standup_participants.roles == (Role.TRIAGE_LEAD, Role.PARTNER)
    assert isinstance(older, WarRoomSettings) and older.standup_participants.roles == (Role.TRIAGE_LEAD,)
    assert parse_setup(form | {"standup_roles": "chief"}, WarRoomSettings()) == {"standup_roles": parse_setup(
        form | {"standup_roles": "chief"}, WarRoomSettings())["standup_roles"]}  # type: ignore[index]
