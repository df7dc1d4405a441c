"""Floor walkers and escalation to the partner, over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import FloorWalkerRow, IssueEventRow, IssueRow, WarRoomRoleRow
from tests.support.activities import ADMIN, LENA, NOBODY, OMAR, USER, execute_action
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.markdown import shown_lines
from tests.support.server import RunningBot
from tests.support.war_room import RaisedIssue, WarRoom, card_text, filled_in, find_execute

ANA = {"id": "29:ana", "name": "Ana Ruiz", "aadObjectId": "aad-ana"}
SARA = {"id": "29:sara", "name": "Sara Lind", "aadObjectId": "aad-sara"}
RAVI = {"id": "29:ravi", "name": "Ravi Menon", "aadObjectId": "aad-ravi"}

HOW_TO = "sev3 - how do I reprint a pick list on the warehouse app"  # how-to, warehouse
DEFECT = "sev2 - wave processing fails with an error in the warehouse"  # defect, warehouse


@pytest.fixture
async def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    war_room = WarRoom(bot, connector)
    connector.members += [dict(person, email=f"{person['name'].split()[0].lower()}@contoso.com") for person in (ANA, SARA, RAVI)]
    await war_room.grant(OMAR, "oncall")
    await war_room.grant(LENA, "triage_lead")
    await war_room.grant(SARA, "support")
    await war_room.grant(RAVI, "partner")
    return war_room


async def add_ana(room: WarRoom, areas: str = "warehouse,finance", *, sender: dict[str, str] = LENA) -> str:
    [reply] = await room.say(f"floor add {{{ANA['name']}}} areas {areas} site Rotterdam", sender=sender, mentioning=[ANA])
    return card_text(reply.card)


async def rows(engine: AsyncEngine, statement: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(statement))


async def stored(engine: AsyncEngine, issue_id: int) -> Any:
    [row] = await rows(engine, select(IssueRow).where(IssueRow.id == issue_id))
    return row


async def verbs(engine: AsyncEngine, issue_id: int) -> list[tuple[str, str, str | None]]:
    statement = select(IssueEventRow.verb, IssueEventRow.actor_name, IssueEventRow.to_value).where(
        IssueEventRow.issue_id == issue_id
    ).order_by(IssueEventRow.id)
    return [tuple(row) for row in await rows(engine, statement)]


def posts_in(connector: FakeConnector, conversation_id: str, text: str) -> list[RecordedCall]:
    return [
        call for call in connector.calls
        if call.method == "POST" and call.conversation_id == conversation_id and call.card and text in card_text(call.card)
    ]


def mentions(card: dict[str, Any]) -> list[str]:
    return [entity["mentioned"]["id"] for entity in card.get("msteams", {}).get("entities", [])]


# -- floor, floor add, floor remove -----------------------------------------------------------------


async def test_a_triage_lead_adds_a_floor_walker_who_gets_the_role_and_shows_on_the_floor(room: WarRoom, engine: AsyncEngine) -> None:
    answer = await add_ana(room)

    assert "Ana Ruiz walks the floor for General ledger, Accounts payable" in answer and "Warehouse on working days at Rotterdam" in answer
    [walker] = await rows(engine, select(FloorWalkerRow))
    assert (walker.aad_object_id, walker.days, walker.site) == ("aad-ana", None, "Rotterdam")
    assert walker.areas == "general_ledger,accounts_payable,accounts_receivable,cash_bank,fixed_assets,tax,warehouse"
    roles = await rows(engine, select(WarRoomRoleRow.role).where(WarRoomRoleRow.aad_object_id == "aad-ana"))
    assert [row.role for row in roles] == ["floor_walker"]

    [floor] = await room.say("floor", sender=NOBODY)  # everyone may look
    text = card_text(floor.card)
    assert "On the floor today · Monday 23 November" in text
    assert mentions(floor.card) == ["aad-ana"]
    assert '[{"type": "TextRun", "text": "Warehouse: ", "weight": "Bolder"}, {"type": "TextRun", "text": "Ana Ruiz (Rotterdam)"}]' in text
    assert "Ana Ruiz — General ledger, Accounts payable, Accounts receivable, Cash and bank, Fixed assets, Tax, Warehouse — working days · Rotterdam" in text


async def test_floor_add_again_replaces_the_days_and_areas(room: WarRoom, engine: AsyncEngine) -> None:
    await add_ana(room)
    [reply] = await room.say(f"floor add {{{ANA['name']}}} areas tax days tue,thu", sender=ADMIN, mentioning=[ANA])

    assert "Ana Ruiz now walks the floor for Tax on Tue, Thu." in card_text(reply.card)
    [walker] = await rows(engine, select(FloorWalkerRow))
    assert (walker.areas, walker.days, walker.site) == ("tax", "1,3", None)
    [floor] = await room.say("floor")
    assert "Nobody is on the floor today." in card_text(floor.card)  # a Monday


@pytest.mark.parametrize("sender", [SARA, OMAR, NOBODY], ids=lambda person: person["name"])
async def test_floor_add_and_remove_need_a_triage_lead_or_an_admin(room: WarRoom, engine: AsyncEngine, sender: dict[str, str]) -> None:
    answer = await add_ana(room, sender=sender)
    assert "To manage floor walkers you need the role admin or triage_lead." in answer
    assert await rows(engine, select(FloorWalkerRow)) == []
    assert await rows(engine, select(WarRoomRoleRow).where(WarRoomRoleRow.role == "floor_walker")) == []

    await add_ana(room)
    [reply] = await room.say(f"floor remove {{{ANA['name']}}}", sender=sender, mentioning=[ANA])
    assert "To manage floor walkers you need the role admin or triage_lead." in card_text(reply.card)
    assert len(await rows(engine, select(FloorWalkerRow))) == 1


async def test_floor_remove_takes_the_role_and_the_days_away(room: WarRoom, engine: AsyncEngine) -> None:
    await add_ana(room)
    [reply] = await room.say(f"floor remove {{{ANA['name']}}}", sender=LENA, mentioning=[ANA])
    assert "Ana Ruiz no longer walks the floor." in card_text(reply.card)
    assert await rows(engine, select(FloorWalkerRow)) == []
    assert await rows(engine, select(WarRoomRoleRow).where(WarRoomRoleRow.role == "floor_walker")) == []
    [again] = await room.say(f"floor remove {{{ANA['name']}}}", sender=LENA, mentioning=[ANA])
    assert "Ana Ruiz was not a floor walker." in card_text(again.card)


async def test_roles_remove_floor_walker_also_takes_them_off_the_floor(room: WarRoom, engine: AsyncEngine) -> None:
    await add_ana(room)
    [reply] = await room.say(f"roles remove {{{ANA['name']}}} floor_walker", sender=ADMIN, mentioning=[ANA])
    assert "Ana Ruiz is no longer floor_walker." in card_text(reply.card)
    assert await rows(engine, select(FloorWalkerRow)) == []


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("floor add {Ana Ruiz} areas canteen", "I don't know the area “canteen”."),
        ("floor add {Ana Ruiz} areas tax days someday", "I don't know the day “someday”."),
        ("floor add {Ana Ruiz}", "Write `floor add @person areas finance,warehouse"),
    ],
)
async def test_floor_add_written_wrongly_is_answered_with_how(room: WarRoom, engine: AsyncEngine, text: str, answer: str) -> None:
    [reply] = await room.say(text, sender=LENA, mentioning=[ANA])
    assert answer in card_text(reply.card)
    assert await rows(engine, select(FloorWalkerRow)) == []


async def test_floor_add_without_a_mention_says_whom_to_mention(room: WarRoom) -> None:
    [reply] = await room.say("floor add areas tax", sender=LENA)
    assert "Mention the floor walker" in card_text(reply.card)


# -- a new question calls the floor walker on duty ----------------------------------------------------


async def test_a_how_to_question_in_their_area_mentions_the_floor_walker_who_may_take_and_resolve_it(
    room: WarRoom, connector: FakeConnector, engine: AsyncEngine
) -> None:
    await add_ana(room)
    issue = await room.raise_issue(HOW_TO)

    assert "On the floor today, and may take it: <at>Ana Ruiz</at>" in card_text(issue.card)
    assert "aad-ana" in mentions(issue.card)
    thread = issue.thread["conversation"]["id"]
    [notice] = posts_in(connector, thread, "you are on the floor today")
    assert "#1 is a how-to question in Warehouse" in card_text(notice.card)
    assert mentions(notice.card) == ["aad-ana"]
    assert (await verbs(engine, issue.issue_id))[-1] == ("floor_called", "Priya Shah", "Ana Ruiz")

    card = await room.click(issue, "issue.take", sender=ANA)
    assert "Assigned to <at>Ana Ruiz</at>" in card_text(card)
    card = await room.click(issue, "issue.resolve", {"resolve_notes": "Showed the reprint button", "resolve_type": "user_trained"}, sender=ANA)
    row = await stored(engine, issue.issue_id)
    assert (row.status, row.handled_by, row.resolved_by_id) == ("resolved", "floor_walker", "aad-ana")
    assert "(floor walker): User trained" in card_text(card)

    [status] = await room.say("status")
    assert "Ana Ruiz: #1 (1)" in shown_lines(status.card)


async def test_the_same_form_submitted_twice_calls_the_floor_walker_once(room: WarRoom, bot: RunningBot, connector: FakeConnector) -> None:
    await add_ana(room)
    message, [form_reply] = await room.post(HOW_TO)
    form = form_reply.card
    data = filled_in(form)
    for _ in range(2):
        status, _ = await bot.post_activity(execute_action(message, "issue.create", data, card_activity_id=form_reply.sent_id))
        assert status == 200
        await bot.settle()
    assert len(posts_in(connector, message["conversation"]["id"], "you are on the floor today")) == 1


async def test_a_defect_or_an_uncovered_area_or_a_day_off_calls_nobody(room: WarRoom, connector: FakeConnector, engine: AsyncEngine) -> None:
    await add_ana(room)
    defect = await room.raise_issue(DEFECT)
    assert "On the floor today" not in card_text(defect.card)
    sales = await room.raise_issue("sev3 - how do I copy a sales quotation")
    assert "On the floor today" not in card_text(sales.card)
    [reply] = await room.say(f"floor add {{{ANA['name']}}} areas warehouse days tue", sender=LENA, mentioning=[ANA])
    assert "Tue" in card_text(reply.card)
    day_off = await room.raise_issue(HOW_TO)
    assert "On the floor today" not in card_text(day_off.card)
    assert not [call for call in connector.calls if call.card and "you are on the floor today" in card_text(call.card)]
    for issue in (defect, sales, day_off):
        assert "floor_called" not in [verb for verb, _, _ in await verbs(engine, issue.issue_id)]


async def test_the_standup_lists_todays_floor_walkers(room: WarRoom) -> None:
    await add_ana(room)
    [standup] = await room.say("standup")
    [line] = [element for element in standup.card["body"] if element.get("id") == "floor_walkers"]
    assert card_text(line).count("On the floor today: Ana Ruiz (General ledger") == 1


# -- escalate to the partner -------------------------------------------------------------------------


async def escalate(room: WarRoom, issue: RaisedIssue, reason: str, *, sender: dict[str, str] = SARA, card: dict[str, Any] | None = None) -> dict[str, Any]:
    return await room.click(issue, "issue.escalate", {"escalate_reason": reason}, sender=sender, card=card)


async def test_support_escalates_to_the_on_call_person_who_is_assigned_and_mentioned(
    room: WarRoom, connector: FakeConnector, engine: AsyncEngine
) -> None:
    await room.say(f"oncall set {{{OMAR['name']}}}", sender=LENA, mentioning=[OMAR])
    issue = await room.raise_issue(DEFECT)

    card = await escalate(room, issue, "Needs a code fix in wave processing")

    text = card_text(card)
    assert "Assigned to <at>Omar Haddad</at>" in text and "aad-omar" in mentions(card)
    assert "Escalated to the partner " in text and "(Omar Haddad) by Sara Lind" in text
    assert "Needs a code fix in wave processing" in text
    with pytest.raises(AssertionError):
        find_execute(card, "issue.escalate")  # escalated once
    row = await stored(engine, issue.issue_id)
    assert (row.status, row.assignee_id, row.escalated_by_id, row.escalated_to_id) == ("in_progress", "aad-omar", "aad-sara", "aad-omar")
    assert row.escalation_reason == "Needs a code fix in wave processing"
    assert (await verbs(engine, issue.issue_id))[-1] == ("escalate", "Sara Lind", "Omar Haddad")
    [notice] = posts_in(connector, issue.thread["conversation"]["id"], "Escalated to the partner by Sara Lind")
    assert mentions(notice.card) == ["aad-omar"]
    assert room.updates_of(issue.card_message_id)[-1].card == card  # everyone's copy shows it

    [status] = await room.say("status")
    assert "Escalated to the partner, last 7 days" in card_text(status.card)
    assert "100% (1 of 1)" in card_text(status.card)
    [exit_card] = await room.say("exit")
    # The escalated issue is the one incoming issue with an outcome; nothing was resolved.
    assert "0% of incoming (0 of 1) · no resolutions yet" in card_text(exit_card.card)


async def test_with_nobody_on_call_it_goes_to_the_partner_team(room: WarRoom, connector: FakeConnector, engine: AsyncEngine) -> None:
    await add_ana(room)
    issue = await room.raise_issue(DEFECT)

    card = await escalate(room, issue, "Beyond the desk", sender=ANA)  # a floor walker may escalate too

    assert "(the partner team) by Ana Ruiz" in card_text(card)
    row = await stored(engine, issue.issue_id)
    assert (row.status, row.assignee_id, row.escalated_to_id) == ("acknowledged", None, None)
    [notice] = posts_in(connector, issue.thread["conversation"]["id"], "Escalated to the partner by Ana Ruiz")
    assert mentions(notice.card) == ["aad-ravi"]


@pytest.mark.parametrize("sender", [OMAR, RAVI, NOBODY, USER], ids=lambda person: person["name"])
async def test_the_partners_own_people_and_others_may_not_escalate(room: WarRoom, engine: AsyncEngine, sender: dict[str, str]) -> None:
    issue = await room.raise_issue(DEFECT)
    card = await escalate(room, issue, "Please", sender=sender)
    assert "To escalate issues to the partner you need the role admin, floor_walker, support or triage_lead." in card_text(card)
    row = await stored(engine, issue.issue_id)
    assert (row.escalated_at, row.version) == (None, 1)


async def test_a_triage_lead_and_an_admin_may_escalate(room: WarRoom, engine: AsyncEngine) -> None:
    first, second = await room.raise_issue(DEFECT), await room.raise_issue(DEFECT)
    await escalate(room, first, "Code fix", sender=LENA)
    await escalate(room, second, "Code fix", sender=ADMIN)
    assert (await stored(engine, first.issue_id)).escalated_by_id == "aad-lena"
    assert (await stored(engine, second.issue_id)).escalated_by_id == "aad-admin"


async def test_escalate_without_a_reason_keeps_the_inputs_open_with_the_error(room: WarRoom, engine: AsyncEngine) -> None:
    issue = await room.raise_issue(DEFECT)
    card = await escalate(room, issue, "   ")
    panel = next(element for element in card["body"] if element.get("id") == "panel")
    assert "Say why the partner is needed" in card_text(panel)
    card = await escalate(room, issue, "x" * 501)
    panel = next(element for element in card["body"] if element.get("id") == "panel")
    [reason] = [element for element in panel["items"] if element.get("id") == "escalate_reason"]
    assert reason["value"] == "x" * 501  # what was typed comes back
    assert (await stored(engine, issue.issue_id)).escalated_at is None


async def test_a_stale_escalate_click_shows_the_card_as_it_is(room: WarRoom, engine: AsyncEngine) -> None:
    issue = await room.raise_issue(DEFECT)
    old_card = issue.card
    await escalate(room, issue, "Code fix")
    card = await escalate(room, issue, "Again", sender=LENA, card=old_card)
    assert "Sara Lind escalated this to the partner just now. This is the card as it is now." in card_text(card)
    assert (await stored(engine, issue.issue_id)).escalated_by_id == "aad-sara"
    assert [verb for verb, _, _ in await verbs(engine, issue.issue_id)].count("escalate") == 1


async def test_a_closed_issue_cannot_be_escalated(room: WarRoom, engine: AsyncEngine) -> None:
    issue = await room.raise_issue(DEFECT)
    fresh = issue.card
    card = await room.click(issue, "issue.resolve", {"resolve_notes": "fixed", "resolve_type": "fixed"}, sender=SARA)
    # The current card has no Escalate button; a click made from it by a tool still gets the rule.
    with pytest.raises(AssertionError):
        find_execute(card, "issue.escalate")
    data = dict(find_execute(fresh, "issue.escalate")["data"]) | {"version": 2, "escalate_reason": "x"}
    status, body = await room.bot.post_activity(
        execute_action(issue.thread, "issue.escalate", data, card_activity_id=issue.card_message_id, sender=SARA)
    )
    assert status == 200
    assert "#1 is resolved, so you cannot escalate it to the partner now." in card_text(body["value"])
    assert (await stored(engine, issue.issue_id)).escalated_at is None
