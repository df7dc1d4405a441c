"""From a channel message to a stored issue, over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import ENGINE, SCHEDULER
from bot.config import Settings
from storage.models import ConversationRow, IssueRow
from tests.support.activities import (
    BOT_ID,
    CHANNEL_ID,
    TEAM_ID,
    channel_message,
    execute_action,
    group_chat_message,
    personal_message,
    submit_action,
)
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector
from tests.support.databases import database_blip
from tests.support.server import FixedToken, RunningBot, running_bot
from tests.support.war_room import filled_in

AP_PROBLEM = "sev1 - nobody in AP can post vendor invoices in USMF, posting profile missing. 12 users affected."


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["id"]: element for element in card["body"] if element["type"].startswith("Input.")}


def form_values(card: dict[str, Any]) -> dict[str, Any]:
    """What a user who changes nothing (but picks where the form says "please choose") would submit."""
    return {key: value for key, value in filled_in(card).items() if key in inputs_of(card)}


def execute_data(card: dict[str, Any]) -> dict[str, Any]:
    action = card["actions"][0]
    assert action["type"] == "Action.Execute"
    return dict(action["data"])


def all_text(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


async def stored_issues(engine: AsyncEngine) -> list[IssueRow]:
    async with engine.connect() as connection:
        return list((await connection.execute(select(IssueRow).order_by(IssueRow.id))).all())


async def raise_form(bot: RunningBot, connector: FakeConnector, text: str = AP_PROBLEM) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Mention the bot in the channel; the message, the form card it answered, the form's message id."""
    message = channel_message(connector.url, text)
    status, _ = await bot.post_activity(message)
    assert status == 200
    reply = connector.calls[-1]
    assert reply.card is not None and reply.sent_id is not None
    return message, reply.card, reply.sent_id


async def test_channel_mention_gets_a_prefilled_form_in_the_thread(bot: RunningBot, connector: FakeConnector) -> None:
    message, form, _ = await raise_form(bot, connector)

    [reply] = connector.calls
    assert reply.method == "POST"
    assert reply.conversation_id == f"{CHANNEL_ID};messageid={message['id']}"
    assert reply.activity_id == message["id"]  # a reply to the post, so it lands in its thread
    fields = inputs_of(form)
    assert fields["title"]["value"] == "Nobody in AP can post vendor invoices in USMF, posting profile missing"
    assert fields["severity"]["value"] == "1"
    assert fields["area"]["value"] == "accounts_payable"
    assert fields["category"]["value"] == "configuration"
    assert fields["company"]["value"] == "USMF"
    assert fields["affected_users"]["value"] == 12
    assert "<at>" not in fields["description"]["value"]
    assert fields["description"]["value"].startswith("sev1 - nobody in AP")


async def test_contact_is_stored_as_a_conversation_reference(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    message, _, _ = await raise_form(bot, connector)
    async with engine.connect() as connection:
        [row] = (await connection.execute(select(ConversationRow))).all()
    assert row.conversation_id == message["conversation"]["id"]
    assert row.service_url == connector.url
    assert (row.team_id, row.channel_id, row.bot_id) == (TEAM_ID, CHANNEL_ID, BOT_ID)


async def test_group_chats_get_the_form_too(bot: RunningBot, connector: FakeConnector) -> None:
    # (Personal chats: tests/e2e/test_personal_chat.py.)
    message = group_chat_message(connector.url, "the warehouse app times out when picking wave 12")
    status, _ = await bot.post_activity(message)
    assert status == 200
    [reply] = connector.calls
    assert reply.conversation_id == message["conversation"]["id"]
    assert inputs_of(reply.card)["title"]["value"] == "The warehouse app times out when picking wave 12"


@pytest.mark.parametrize("text", ["", "help", "  HELP  "])
async def test_empty_text_or_help_gets_the_help_card(bot: RunningBot, connector: FakeConnector, text: str) -> None:
    status, _ = await bot.post_activity(channel_message(connector.url, text))
    assert status == 200
    [reply] = connector.calls
    assert "Raise a hypercare issue" not in all_text(reply.card)
    assert "To raise an issue, mention me" in all_text(reply.card)


async def test_message_without_any_text_is_answered_not_an_error(bot: RunningBot, connector: FakeConnector) -> None:
    message = personal_message(connector.url, "")
    del message["text"]
    status, _ = await bot.post_activity(message)
    assert status == 200
    assert len(connector.calls) == 1


async def test_duplicate_delivery_is_answered_once(bot: RunningBot, connector: FakeConnector) -> None:
    message = channel_message(connector.url, AP_PROBLEM)
    assert (await bot.post_activity(message))[0] == 200
    assert (await bot.post_activity(message))[0] == 200
    assert len(connector.calls) == 1


async def test_foreign_tenant_is_ignored(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    status, _ = await bot.post_activity(channel_message(connector.url, AP_PROBLEM, tenant="other-tenant"))
    assert status == 202
    assert connector.calls == []
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(ConversationRow))).scalar_one() == 0


async def test_missing_tenant_is_not_on_the_allow_list(bot: RunningBot, connector: FakeConnector) -> None:
    message = channel_message(connector.url, AP_PROBLEM)
    message["channelData"].pop("tenant")
    message["conversation"].pop("tenantId")
    status, _ = await bot.post_activity(message)
    assert status == 202
    assert connector.calls == []


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
        (b'{"type": "message", "conversation": "not an object"}', "application/json", 400),
        (b'{"type": "message"}', "text/plain", 415),
        (b'{"type": "message"}', None, 415),
        (b'{"type": "message", "text": "' + b"x" * 300_000 + b'"}', "application/json", 413),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    ],
    ids=["malformed", "array", "no-type", "wrong-shape", "text-plain", "no-content-type", "too-large", "deeply-nested"],
)
async def test_malformed_requests_get_a_4xx(
    bot: RunningBot, connector: FakeConnector, body: bytes, content_type: str | None, expected: int
) -> None:
    assert await bot.post_raw(body, content_type) == expected
    assert connector.calls == []


async def test_unknown_activity_type_is_accepted_and_ignored(bot: RunningBot, connector: FakeConnector) -> None:
    activity = channel_message(connector.url, "x")
    activity["type"] = "somethingNew"
    status, _ = await bot.post_activity(activity)
    assert 200 <= status < 300
    assert connector.calls == []


async def test_unknown_invoke_gets_200_with_a_body(bot: RunningBot, connector: FakeConnector) -> None:
    activity = channel_message(connector.url, "x")
    activity.update(type="invoke", name="application/somethingElse", value={})
    status, body = await bot.post_activity(activity)
    assert status == 200
    assert body == {}


async def test_execute_submit_stores_the_issue_and_answers_with_the_issue_card(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    message, form, form_message_id = await raise_form(bot, connector)
    values = form_values(form) | {"severity": "2", "title": "AP cannot post vendor invoices"}

    status, body = await bot.post_activity(
        execute_action(message, "issue.create", execute_data(form) | values, card_activity_id=form_message_id)
    )

    assert status == 200
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    card_text = all_text(body["value"])
    assert "#1 " in card_text and "AP cannot post vendor invoices" in card_text
    assert "Sev 2" in card_text and "New" in card_text
    [issue] = await stored_issues(engine)
    assert (issue.number, issue.severity, issue.status, issue.company) == (1, 2, "new", "USMF")
    assert (issue.reporter_name, issue.reporter_aad_id, issue.team_id) == ("Priya Shah", "aad-priya", TEAM_ID)
    assert issue.card_activity_id == form_message_id
    assert issue.resolve_by is not None and (issue.resolve_by - issue.created_at).days == 2
    # The invoke answer replaces the form for the reporter; everyone else sees it replaced by a PUT.
    await bot.settle()
    refresh = connector.calls[-1]
    assert (refresh.method, refresh.activity_id, refresh.conversation_id) == ("PUT", form_message_id, message["conversation"]["id"])
    assert refresh.card == body["value"]


async def test_submitting_the_same_form_twice_raises_one_issue(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    message, form, form_message_id = await raise_form(bot, connector)
    data = execute_data(form) | form_values(form)
    first = await bot.post_activity(execute_action(message, "issue.create", data, card_activity_id=form_message_id))
    second = await bot.post_activity(execute_action(message, "issue.create", data, card_activity_id=form_message_id))
    assert first == second
    assert len(await stored_issues(engine)) == 1


async def test_issues_are_numbered_per_war_room(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    for text in ("sev2 first problem", "sev3 second problem"):
        message, form, form_message_id = await raise_form(bot, connector, text)
        data = execute_data(form) | form_values(form)
        await bot.post_activity(execute_action(message, "issue.create", data, card_activity_id=form_message_id))
    group = group_chat_message(connector.url, "sev2 a problem in a group chat")
    await bot.post_activity(group)
    form_message = connector.calls[-1]
    form = form_message.card
    await bot.post_activity(
        execute_action(group, "issue.create", execute_data(form) | form_values(form), card_activity_id=form_message.sent_id)
    )
    assert [(i.number, i.title) for i in await stored_issues(engine)] == [
        (1, "First problem"),
        (2, "Second problem"),
        (1, "A problem in a group chat"),
    ]


async def test_submit_fallback_stores_and_updates_the_form_in_place(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    message, form, form_message_id = await raise_form(bot, connector)
    fallback = form["actions"][0]["fallback"]
    assert fallback["type"] == "Action.Submit"

    status, _ = await bot.post_activity(
        submit_action(message, fallback["data"] | form_values(form), card_activity_id=form_message_id)
    )

    assert status == 200
    update = connector.calls[-1]
    assert (update.method, update.activity_id) == ("PUT", form_message_id)
    assert "#1 " in all_text(update.card)
    assert len(await stored_issues(engine)) == 1


@pytest.mark.parametrize(
    ("changes", "bad_fields"),
    [
        ({"severity": "7"}, {"severity"}),
        ({"title": "   "}, {"title"}),
        ({"description": "x" * 100_000}, {"description"}),
        ({"severity": ["1"], "affected_users": "many", "company": "<b>US</b>"}, {"severity", "affected_users", "company"}),
        ({"title": 42}, {"title"}),
    ],
    ids=["severity-7", "empty-title", "100kb-description", "wrong-types", "numeric-title"],
)
async def test_invalid_submit_returns_the_form_with_errors_and_stores_nothing(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine, changes: dict[str, Any], bad_fields: set[str]
) -> None:
    message, form, form_message_id = await raise_form(bot, connector)
    data = execute_data(form) | form_values(form) | changes

    status, body = await bot.post_activity(execute_action(message, "issue.create", data, card_activity_id=form_message_id))

    assert status == 200
    card = body["value"]
    error_ids = {element["id"].removesuffix("_error") for element in card["body"] if element.get("id", "").endswith("_error")}
    assert error_ids == bad_fields
    kept = inputs_of(card)
    for field in ("title", "description", "company"):
        if field not in changes:
            assert kept[field].get("value") == inputs_of(form)[field].get("value")
    assert execute_data(card)["form_id"] == execute_data(form)["form_id"]
    assert await stored_issues(engine) == []


async def test_corrected_form_after_an_error_raises_the_issue(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    message, form, form_message_id = await raise_form(bot, connector)
    bad = execute_data(form) | form_values(form) | {"severity": "9"}
    _, body = await bot.post_activity(execute_action(message, "issue.create", bad, card_activity_id=form_message_id))
    corrected = execute_data(body["value"]) | form_values(body["value"]) | {"severity": "3"}
    _, body = await bot.post_activity(execute_action(message, "issue.create", corrected, card_activity_id=form_message_id))
    assert "Sev 3" in all_text(body["value"])
    [issue] = await stored_issues(engine)
    assert issue.severity == 3
    await bot.settle()
    assert [call.method for call in connector.calls] == ["POST", "PUT"]  # the failed try was not shown to everyone


async def test_user_text_cannot_inject_markdown_or_mentions_into_cards(
    bot: RunningBot, connector: FakeConnector
) -> None:
    message, form, form_message_id = await raise_form(bot, connector)
    evil = "[click](https://evil.example) <at>CEO</at> **bold**"
    data = execute_data(form) | form_values(form) | {"title": evil}
    _, body = await bot.post_activity(execute_action(message, "issue.create", data, card_activity_id=form_message_id))
    card = body["value"]
    text_blocks = [e for e in card["body"] if e["type"] == "TextBlock"]
    assert all("evil.example" not in block["text"] for block in text_blocks)
    runs = [run for e in card["body"] if e["type"] == "RichTextBlock" for run in e["inlines"]]
    assert any(run["text"] == evil for run in runs)  # shown literally, as a TextRun (never markdown)
    assert "msteams" not in card or "entities" not in card["msteams"]


async def test_unknown_verb_answers_with_a_notice_and_stores_nothing(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    message, _, form_message_id = await raise_form(bot, connector)
    status, body = await bot.post_activity(execute_action(message, "issue.explode", {}, card_activity_id=form_message_id))
    assert status == 200
    assert "not one I know" in all_text(body["value"])
    assert await stored_issues(engine) == []


async def test_reply_is_retried_after_429_and_sent_once(bot: RunningBot, connector: FakeConnector) -> None:
    connector.fail_next(429, headers={"Retry-After": "0"})
    connector.fail_next(503)
    status, _ = await bot.post_activity(channel_message(connector.url, AP_PROBLEM))
    assert status == 200
    assert len(connector.failed_attempts) == 2
    assert len(connector.calls) == 1


async def test_health_and_readiness(bot: RunningBot) -> None:
    async with bot.client.get(f"{bot.url}/healthz") as response:
        assert response.status == 200
    async with bot.client.get(f"{bot.url}/readyz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ready"


async def test_a_reply_teams_will_not_take_now_is_kept_in_the_outbox_and_sent_later(
    bot: RunningBot, connector: FakeConnector, clock: Any
) -> None:
    connector.fail_next(503, times=4)  # every in-turn attempt fails
    status, _ = await bot.post_activity(channel_message(connector.url, AP_PROBLEM))
    assert status == 200
    assert connector.calls == [] and len(connector.failed_attempts) == 4
    await bot.app[SCHEDULER].tick(clock.now())
    [late] = connector.calls
    assert late.card is not None and "Raise a hypercare issue" in all_text(late.card)


async def test_a_reply_without_a_token_waits_in_the_outbox_and_the_next_tick_sends_it(
    settings: Settings, clock: FrozenClock, connector: FakeConnector
) -> None:
    tokens = FixedToken("outbound-token")
    tokens.fail_next()  # Azure AD does not give the bot a token this once
    # The fake connector listens on loopback: listed, so the token may go there.
    trusting = settings.model_copy(update={"trusted_service_hosts": frozenset({"127.0.0.1"})})
    async with running_bot(trusting, clock, tokens=tokens) as bot:
        message = channel_message(connector.url, AP_PROBLEM)
        status, _ = await bot.post_activity(message)
        assert status == 200 and connector.calls == []
        await bot.app[SCHEDULER].tick(clock.now())
        [late] = connector.calls
        assert late.headers["Authorization"] == "Bearer outbound-token" and "Raise a hypercare issue" in all_text(late.card)
        assert (await bot.post_activity(message))[0] == 200  # answered: Teams' re-delivery is a duplicate now
        assert len(connector.calls) == 1


async def test_a_redelivery_while_the_first_is_still_being_answered_gets_503_and_one_answer(
    bot: RunningBot, connector: FakeConnector
) -> None:
    message = channel_message(connector.url, AP_PROBLEM)
    connector.fail_next(0)  # the form reply hangs, so Teams sends the message again
    first = asyncio.create_task(bot.post_activity(message))
    await connector.holding.wait()
    status, body = await bot.post_activity(message)
    assert status == 503 and "still being answered" in body["error"]
    connector.release()
    assert (await first)[0] == 200  # the reply's next attempt went through
    [form] = connector.calls
    assert form.card is not None and "Raise a hypercare issue" in all_text(form.card)
    assert (await bot.post_activity(message))[0] == 200 and len(connector.calls) == 1


async def test_an_answer_sent_while_the_database_blinks_is_not_asked_for_again(bot: RunningBot, connector: FakeConnector) -> None:
    # Recording the answer fails: a 503 now would only make Teams ask again and get a second form.
    with database_blip(bot.app[ENGINE], "UPDATE processed_activities"):
        status, _ = await bot.post_activity(channel_message(connector.url, AP_PROBLEM))
    assert status == 200 and len(connector.calls) == 1


async def test_being_added_to_a_team_names_the_war_room(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    update = channel_message(connector.url, "")
    update.update(type="conversationUpdate", text=None, membersAdded=[{"id": BOT_ID}])
    update["channelData"]["team"]["name"] = "Contoso go-live war room"
    status, _ = await bot.post_activity(update)
    # The welcome (tests/e2e/test_install.py) names it already.
    assert status == 200 and "Contoso go-live war room" in all_text(connector.calls[-1].card)
    await bot.post_activity(channel_message(connector.url, "standup"))
    assert "Contoso go-live war room" in all_text(connector.calls[-1].card)
