"""Hostile input: each row of the README's table is a test here. Status, what the user sees, and proof
that nothing was stored or sent that should not have been."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import Person
from bot.domain.mentions import MENTIONS_PER_MESSAGE, NOTICE_MESSAGES_MAX
from cards.common import MAX_CARD_BYTES, card_bytes
from storage.models import ConversationRow, IssueRow, OutboxRow
from storage.uow import UnitOfWorkFactory
from tests.e2e.test_raise_from_message import payload
from tests.support.activities import ADMIN, LENA, NOBODY, OMAR, SECOND_TENANT, USER, channel_message, execute_action, message_extension_action
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.markdown import markdown_fields
from tests.support.server import RunningBot
from tests.support.war_room import WarRoom, card_text, filled_in


async def counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            [(await connection.execute(select(func.count()).select_from(table))).scalar_one() for table in (ConversationRow, IssueRow, OutboxRow)]
        )


async def form_for(room: WarRoom, text: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    message, [reply] = await room.post(text)
    assert reply.card is not None and reply.sent_id is not None
    return message, reply.card, reply.sent_id


def submitted(card: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return filled_in(card) | changes


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"type": "message", "text": "x"', "application/json", 400),  # malformed JSON
        (b'{"type": "message"}', "text/html", 415),  # wrong content type
        (b"[" * 50_000 + b"]" * 50_000, "application/json", 400),  # deeply nested JSON
    ],
    ids=["malformed-json", "wrong-content-type", "deeply-nested-json"],
)
async def test_broken_requests_are_4xx_and_leave_no_trace(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine, body: bytes, content_type: str, status: int
) -> None:
    assert await bot.post_raw(body, content_type) == status
    assert connector.calls == [] and await counts(engine) == (0, 0, 0)


async def test_a_10_mb_body_is_refused_before_it_is_read(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    assert await bot.post_raw(b"{" + b" " * (10 * 1024 * 1024) + b"}") == 413
    assert connector.calls == [] and await counts(engine) == (0, 0, 0)


async def test_100_kb_of_text_gets_a_form_holding_the_start_and_saying_so(room: WarRoom, connector: FakeConnector) -> None:
    _, form, _ = await form_for(room, "sev2 " + "the batch job hangs again " * 4000)
    assert "longer than 8,000 characters" in card_text(form)
    description = next(e for e in form["body"] if e.get("id") == "description")
    assert len(description["value"]) <= 8000


async def test_a_100_kb_tag_flood_gets_its_form_at_once(bot: RunningBot, connector: FakeConnector) -> None:
    message = channel_message(connector.url, "", mentioning=[OMAR])
    # Unclosed tags to the end of the text: what makes html.parser quadratic (CPython gh-135462).
    message["text"] = "<at>Hypercare</at> sev2 AP &amp; GL posting fails, <at>Omar Haddad</at> knows " + "<p" * 50_000
    started = time.process_time()
    assert (await bot.post_activity(message))[0] == 200
    # CPU of this whole process (the bot, SQLite, the test client), not wall time: the unfixed
    # html.parser alone spent over ten seconds on this message, with every other request waiting.
    assert time.process_time() - started < 2
    [reply] = connector.calls
    description = next(e for e in reply.card["body"] if e.get("id") == "description")
    assert description["value"].startswith("sev2 AP & GL posting fails, Omar Haddad knows <p<p")
    assert next(e for e in reply.card["body"] if e.get("id") == "severity")["value"] == "2"


async def test_an_overlong_character_reference_gets_a_form(room: WarRoom) -> None:
    _, form, _ = await form_for(room, "sev3 invoice &#" + "9" * 5000 + "; rejected")
    description = next(e for e in form["body"] if e.get("id") == "description")
    assert description["value"] == "sev3 invoice \ufffd rejected"


@pytest.mark.parametrize(
    "title",
    [
        "<script>alert(1)</script> posting fails",
        "[Click to fix](https://evil.example/login) AP is down",
        "<at>CEO</at> please look",
        "Bold **claims** and `code`",
    ],
    ids=["html-script", "markdown-link", "fake-mention", "markdown-format"],
)
async def test_injection_attempts_in_titles_are_shown_literally(room: WarRoom, engine: AsyncEngine, title: str) -> None:
    message, form, form_id = await form_for(room, "sev3 something")
    _, body = await room.bot.post_activity(
        execute_action(message, "issue.create", submitted(form, title=title), card_activity_id=form_id)
    )
    card = body["value"]
    runs = [run["text"] for element in card["body"] if element["type"] == "RichTextBlock" for run in element["inlines"]]
    assert title in runs  # a TextRun: never read as markdown, HTML or a mention
    assert all(title not in element.get("text", "") for element in card["body"] if element["type"] == "TextBlock")
    assert "entities" not in card.get("msteams", {})
    async with engine.connect() as connection:
        assert (await connection.execute(select(IssueRow.title))).scalar_one() == title  # stored as typed


PHISHING = "[Your_session_expired](https://evil.example/login)"


def read_as_markdown(calls: list[RecordedCall], text: str) -> list[str]:
    """The TextBlocks and facts of the cards sent that hold `text` (where Teams would make it a link)."""
    return [field for call in calls if call.card for field in markdown_fields(call.card) if text in field]


async def test_a_command_argument_echoed_back_is_plain_text(room: WarRoom) -> None:
    [reply] = await room.say(f"list x`{PHISHING}`")
    assert "I don't know the filter" in card_text(reply.card) and "evil.example/login" in card_text(reply.card)
    assert read_as_markdown([reply], "evil.example") == []


async def test_a_display_name_is_plain_text_in_notices_and_cards(room: WarRoom) -> None:
    await room.grant(OMAR, "oncall")
    await room.grant(LENA, "oncall")
    issue = await room.raise_issue()
    phisher = dict(OMAR, name=PHISHING.replace("_", " "))  # Omar, who renamed himself
    acknowledged = await room.say("ack #1", sender=phisher)
    [refused] = await room.say("ack #1", sender=LENA)
    assert "was already acknowledged by [Your session expired](https://evil.example/login)" in card_text(refused.card)
    assert [call.method for call in acknowledged] == ["POST", "PUT"]  # the answer, and the issue card updated in place
    assert "evil.example" in card_text(room.updates_of(issue.card_message_id)[-1].card or {})
    assert read_as_markdown([*acknowledged, refused], "evil.example") == []


async def test_control_characters_are_removed_and_emoji_kept(room: WarRoom, engine: AsyncEngine) -> None:
    message, form, form_id = await form_for(room, "sev3 something")
    await room.bot.post_activity(
        execute_action(message, "issue.create", submitted(form, title="Invoice\u0007 \u202eexe.txt stuck 🚚🔥"), card_activity_id=form_id)
    )
    async with engine.connect() as connection:
        stored = (await connection.execute(select(IssueRow.title))).scalar_one()
    assert stored == "Invoice exe.txt stuck 🚚🔥"


@pytest.mark.parametrize(
    ("changes", "stored"),
    [
        ({"admin": True, "tenant": "other", "war_room_id": 999, "severity": "2"}, 1),  # extra fields: ignored
        ({"title": None, "severity": None}, 0),  # missing fields
        ({"severity": {"$ne": 1}, "affected_users": [1, 2], "company": 7}, 0),  # wrong types
    ],
    ids=["extra-fields", "missing-fields", "wrong-types"],
)
async def test_forged_form_submissions(room: WarRoom, engine: AsyncEngine, changes: dict[str, Any], stored: int) -> None:
    message, form, form_id = await form_for(room, "sev2 payments file rejected")
    data = {key: value for key, value in (submitted(form) | changes).items() if value is not None}
    status, body = await room.bot.post_activity(execute_action(message, "issue.create", data, card_activity_id=form_id))
    assert status == 200
    assert ("Please correct" in card_text(body["value"])) == (stored == 0)
    assert (await counts(engine))[1] == stored


async def test_a_button_carrying_another_tenants_issue_is_refused(room: WarRoom, bot: RunningBot, connector: FakeConnector) -> None:
    issue = await room.raise_issue()
    # Same issue id and version, clicked from a conversation of another (allowed) tenant's team.
    forged = channel_message(connector.url, "x", tenant="0b6e8a1c-2f4d-4c9e-8e1a-7d5c3b2a1f00", team_id="19:other-team@thread.tacv2")
    data = {"issue_id": issue.issue_id, "version": 1}
    status, body = await bot.post_activity(execute_action(forged, "issue.ack", data, card_activity_id="x"))
    assert status == 200 and "There is no issue like that in this war room" in card_text(body["value"])


# Tenant B: another allowed customer of the partner, with its own team (its own war room).
OTHER_TEAM = "19:other-team@thread.tacv2"
SAM = {"id": "29:sam", "name": "Sam Stranger", "aadObjectId": "aad-sam"}


async def issue_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(select(IssueRow).order_by(IssueRow.id))]


def seen(answer: Any, calls: list[Any]) -> str:
    """Everything a turn showed or sent: its answer and the bodies of the Bot Connector calls it made."""
    return json.dumps([answer, *(call.body for call in calls)], ensure_ascii=False)


@pytest.mark.parametrize("route", ["issue-form", "message-dialog"])
async def test_a_form_id_replayed_from_another_war_room_reaches_nothing_of_the_first(
    room: WarRoom, bot: RunningBot, connector: FakeConnector, engine: AsyncEngine, route: str
) -> None:
    a = await room.raise_issue("sev2 - AP cannot post vendor invoices in USMF")
    [a_before] = await issue_rows(engine)
    a_form = next(call.card for call in connector.calls if call.sent_id == a.card_message_id)

    # B fills in its own form and submits it carrying A's form id.
    b_message = channel_message(
        connector.url, "sev3 - warehouse labels print blank", tenant=SECOND_TENANT, team_id=OTHER_TEAM, sender=SAM
    )
    assert (await bot.post_activity(b_message))[0] == 200
    b_form = connector.calls[-1]
    assert b_form.card is not None and b_form.sent_id is not None
    data = submitted(b_form.card, form_id=a_before["source_form_id"])
    before = len(connector.calls)
    if route == "issue-form":
        status, answer = await bot.post_activity(
            execute_action(b_message, "issue.create", data, card_activity_id=b_form.sent_id, sender=SAM)
        )
    else:
        status, answer = await bot.post_activity(
            message_extension_action(
                connector.url, "composeExtension/submitAction", payload() | {"data": data}, tenant=SECOND_TENANT,
                team_id=OTHER_TEAM, sender=SAM,
            )
        )
    await bot.settle()
    b_calls = connector.calls[before:]

    shown = seen(answer, b_calls)
    assert status == 200 and b_calls
    assert [word for word in ("AP cannot post", USER["name"]) if word in shown] == []
    assert "Warehouse labels print blank" in shown  # B's own issue, raised in B
    assert all(call.conversation_id != a_before["conversation_id"] for call in b_calls)
    a_after, b_issue = await issue_rows(engine)
    assert a_after == a_before  # A's issue: same war room, thread, card, title, version
    assert (b_issue["war_room_id"] != a_before["war_room_id"], b_issue["reporter_name"]) == (True, SAM["name"])

    # And back: A submitting its form again gets its own issue, nothing of B's.
    before = len(connector.calls)
    status, answer = await bot.post_activity(
        execute_action(a.thread, "issue.create", submitted(a_form), card_activity_id=a.card_message_id)
    )
    await bot.settle()
    shown = seen(answer, connector.calls[before:])
    assert status == 200 and "AP cannot post" in card_text(answer["value"])
    assert [word for word in ("Warehouse labels", SAM["name"]) if word in shown] == []
    assert await issue_rows(engine) == [a_before, b_issue]


async def test_a_replayed_activity_is_answered_once(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    message = channel_message(connector.url, "sev2 invoices stuck")
    for _ in range(3):
        assert (await bot.post_activity(message))[0] == 200
    assert len(connector.calls) == 1 and (await counts(engine))[0] == 1


async def test_an_unknown_invoke_name_gets_200_and_an_empty_body(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    activity = channel_message(connector.url, "x")
    activity.update(type="invoke", name="task/fetch-something-new", value={"x": 1})
    status, body = await bot.post_activity(activity)
    assert (status, body) == (200, {})
    assert connector.calls == [] and json.dumps(body) == "{}"


# -- property-based: random activities and submissions ---------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_verbs = st.sampled_from(
    ["issue.create", "issue.ack", "issue.take", "issue.assign", "issue.resolve", "issue.severity", "issue.update",
     "issue.reopen", "issue.metoo", "issue.duplicate", "issue.defer", "issue.snooze", "nonsense", ""]
)
_form_keys = st.sampled_from(
    ["form_id", "title", "description", "severity", "category", "area", "company", "affected_users", "issue_id", "version",
     "resolve_notes", "resolve_type", "severity_new", "severity_reason", "duplicate_of", "assign_person", "update_text"]
)
_card_data = st.dictionaries(_form_keys, st.text(max_size=30) | st.integers(-5, 10**6) | _json, max_size=8)
_texts = st.text(max_size=300) | st.sampled_from(["list", "show #1", "ack #1", "resolve #1 fixed", "roles add me oncall", "standup", "oncall", "help"])


@st.composite
def random_activity(draw: st.DrawFn, service_url: str) -> dict[str, Any]:
    activity = channel_message(service_url, draw(_texts))
    kind = draw(st.sampled_from(["message", "submit", "execute", "dialog", "other"]))
    if kind == "submit":
        activity.update(text=None, value=draw(_card_data) | {"verb": draw(_verbs)}, replyToId=draw(st.text(max_size=10)))
    elif kind == "execute":
        activity.update(type="invoke", name="adaptiveCard/action", value={"action": {"verb": draw(_verbs), "data": draw(_card_data)}})
    elif kind == "dialog":
        name = draw(st.sampled_from(["composeExtension/fetchTask", "composeExtension/submitAction"]))
        activity.update(type="invoke", name=name, value=draw(_json))
    elif kind == "other":
        activity.update(type=draw(st.sampled_from(["conversationUpdate", "event", "typing", "messageReaction", "x"])), value=draw(_json))
    if draw(st.booleans()):
        activity["entities"] = draw(st.lists(_json, max_size=3))
    if draw(st.booleans()):
        activity["channelData"] = draw(_json)
    activity["serviceUrl"] = service_url  # whatever else is random, nothing is ever sent anywhere but the fake connector
    return activity


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_random_activities_never_cause_a_5xx_or_store_garbage(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine, data: st.DataObject
) -> None:
    activity = data.draw(random_activity(connector.url))
    status, _ = await bot.post_activity(activity)
    assert status in {200, 202, 400, 413, 415}, (status, activity)
    async with engine.connect() as connection:
        for title, severity, company in await connection.execute(select(IssueRow.title, IssueRow.severity, IssueRow.company)):
            assert 1 <= len(title) <= 120 and 1 <= severity <= 4
            assert not any(ord(ch) < 32 for ch in title)
            assert company is None or company.isascii()


async def test_a_thousand_people_saying_me_too_get_a_few_bounded_messages_when_it_is_resolved(
    room: WarRoom, connector: FakeConnector, uow_factory: UnitOfWorkFactory
) -> None:
    await room.grant(OMAR, "oncall")
    issue = await room.raise_issue()
    # 999 people said "me too" (stored through the real repository: a thousand clicks over HTTP take half a minute per database),
    # long names and real AAD ids, as a big tenant has them; the thousandth clicks the card.
    crowd = tuple(
        Person(aad_object_id=str(uuid.UUID(int=n)), name=f"Émilie-Anne Follower {n:04d} (Finance Operations)")
        for n in range(1, 1000)
    )
    async with uow_factory() as uow:
        stored = await uow.issues.get(issue.issue_id, for_update=True)
        assert stored is not None
        await uow.issues.save(stored.model_copy(update={"followers": crowd}), expected_version=stored.version, known_followers=())
        await uow.commit()
    [shown] = await room.say("show #1")
    joined = await room.click(issue, "issue.metoo", sender=NOBODY, card=shown.card)
    assert "+1000 said me too" in card_text(joined)
    before = len(connector.calls)
    resolved = await room.click(issue, "issue.resolve", {"resolve_notes": "Posting profile added", "resolve_type": "fixed"}, sender=OMAR)

    for card in (shown.card, joined, resolved):
        assert card_bytes(card) <= MAX_CARD_BYTES
    for call in connector.calls:
        assert card_bytes(call.body) <= MAX_CARD_BYTES, f"{call.method} {call.path}: {card_bytes(call.body)} bytes"
    posted = [call.card for call in connector.calls[before:] if call.method == "POST" and call.card is not None]
    # Then one question for the reporter alone (tests/e2e/test_signoff.py): "Is it fixed for you?".
    *notices, question = posted
    assert "Is it fixed for you?" in card_text(question) and len(question["msteams"]["entities"]) == 1
    assert 1 < len(notices) <= NOTICE_MESSAGES_MAX
    assert "Resolved: #1" in card_text(notices[0])
    mentioned = [[entity["mentioned"]["id"] for entity in card["msteams"]["entities"]] for card in notices]
    assert all(len(ids) <= MENTIONS_PER_MESSAGE for ids in mentioned)
    everyone = [id_ for ids in mentioned for id_ in ids]
    assert len(everyone) == len(set(everyone)) == MENTIONS_PER_MESSAGE * NOTICE_MESSAGES_MAX
    assert everyone[:2] == ["aad-priya", crowd[0].aad_object_id]  # the reporter first, then in the order they joined
    told_by_count = 1 + 1000 - len(everyone)
    assert f"and {told_by_count} others who followed this issue" in card_text(notices[-1])


@pytest.mark.parametrize(
    "path",
    [
        "/charts/1/9999999999/%C3%A9.png",  # a non-ASCII signature
        "/charts/1/9999999999/%F0%9F%98%80%00.png",  # emoji and a NUL
        "/charts/1/9999999999/%FF%ED%A0%80.png",  # not UTF-8, an encoded surrogate
        "/charts/%D9%A1/9999999999/abc.png",  # a non-ASCII digit as the war room
        "/charts/1/" + "9" * 5000 + "/abc.png",  # a number too long to convert
        "/charts/1/" + "9" * 19 + "/abc.png",  # a number no database column holds
        "/handover/1/9999999999/%C3%A9.zip",
        "/handover/%D9%A1/9999999999/abc.zip",
        "/handover/1/" + "9" * 5000 + "/abc.zip",
        "/handover/-1/9999999999/abc.zip",
    ],
    ids=["non-ascii-signature", "emoji-and-nul", "not-utf-8", "arabic-digit", "huge-number", "bigint-overflow",
         "handover-non-ascii-signature", "handover-arabic-digit", "handover-huge-number", "handover-negative"],
)
async def test_a_malformed_chart_or_handover_link_is_404(bot: RunningBot, path: str) -> None:
    async with bot.client.get(bot.url + path) as response:
        assert response.status == 404, await response.text()


def people(count: int) -> list[dict[str, str]]:
    return [{"id": f"29:p{n}", "name": f"Person {n}", "aadObjectId": f"aad-p{n}"} for n in range(count)]


async def test_a_rota_of_300_mentions_from_someone_without_the_role_looks_nobody_up(room: WarRoom, connector: FakeConnector) -> None:
    crowd = people(300)
    [refused] = await room.say("oncall rota " + " ".join(f"{{{p['name']}}}" for p in crowd), sender=NOBODY, mentioning=crowd)
    assert "need the role triage_lead or admin" in card_text(refused.card)
    assert connector.member_lookups == []


async def test_a_rota_of_more_than_20_people_is_refused_before_anyone_is_looked_up(room: WarRoom, connector: FakeConnector) -> None:
    crowd = people(21)
    [refused] = await room.say("oncall rota " + " ".join(f"{{{p['name']}}}" for p in crowd), sender=ADMIN, mentioning=crowd)
    assert "at most 20 people" in card_text(refused.card)
    assert connector.member_lookups == []
    [done] = await room.say("oncall rota " + " ".join(f"{{{p['name']}}}" for p in crowd[:20]), sender=ADMIN, mentioning=crowd[:20])
    assert "On-call rota: Person 0, Person 1" in card_text(done.card)
    assert connector.member_lookups == [p["id"] for p in crowd[:20]]
