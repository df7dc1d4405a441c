""""Raise hypercare issue" on any message: the message extension's dialog, over real HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import SCHEDULER
from storage.models import IssueRow
from tests.support.activities import channel_message, message_extension_action
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector
from tests.support.server import RunningBot
from tests.support.war_room import card_text, filled_in

LINK = "https://teams.microsoft.com/l/message/19:war-room-general@thread.tacv2/1711111111111?parentMessageId=1711111111111"


def message_action(connector: FakeConnector, name: str, value: dict[str, Any]) -> dict[str, Any]:
    return message_extension_action(connector.url, name, value)


def payload(text: str = "<p>Since this morning the <b>vendor payment journal</b> fails for USMF &amp; DEMF — 14 users</p>") -> dict[str, Any]:
    return {
        "commandId": "raiseIssue",
        "commandContext": "message",
        "messagePayload": {
            "id": "1711111111111",
            "body": {"contentType": "html", "content": text},
            "from": {"user": {"id": "29:anna", "displayName": "Anna Key-User"}},
            "linkToMessage": LINK,
        },
    }


def dialog_card(body: dict[str, Any]) -> dict[str, Any]:
    assert body["task"]["type"] == "continue"
    return body["task"]["value"]["card"]["content"]


async def test_fetch_task_opens_the_form_prefilled_from_the_message(bot: RunningBot, connector: FakeConnector) -> None:
    status, body = await bot.post_activity(message_action(connector, "composeExtension/fetchTask", payload()))
    assert status == 200
    card = dialog_card(body)
    values = {e["id"]: e.get("value") for e in card["body"] if e["type"].startswith("Input.")}
    assert values["title"].startswith("Since this morning the vendor payment journal fails")
    assert values["affected_users"] == 14
    assert "From a message by Anna Key-User" in card_text(card)
    [submit] = card["actions"]
    assert submit["type"] == "Action.Submit"  # dialogs do not run Action.Execute
    assert submit["data"]["source_url"] == LINK
    assert connector.calls == []


async def test_submit_action_raises_the_issue_and_posts_its_card_in_the_thread(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    _, body = await bot.post_activity(message_action(connector, "composeExtension/fetchTask", payload()))
    form = dialog_card(body)
    data = filled_in(form)
    data["severity"] = "2"
    submit = message_action(connector, "composeExtension/submitAction", payload() | {"data": data})

    status, body = await bot.post_activity(submit)
    await bot.settle()

    assert status == 200 and body["task"]["type"] == "message"
    [post] = connector.calls
    assert post.method == "POST" and post.conversation_id == submit["conversation"]["id"]
    assert "Raised from a message" in card_text(post.card)
    async with engine.connect() as connection:
        [issue] = (await connection.execute(select(IssueRow))).all()
    assert (issue.source_url, issue.card_activity_id, issue.severity) == (LINK, post.sent_id, 2)


async def test_an_issue_card_teams_will_not_take_now_is_put_in_the_thread_by_the_outbox(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine, clock: FrozenClock
) -> None:
    _, body = await bot.post_activity(message_action(connector, "composeExtension/fetchTask", payload()))
    form = dialog_card(body)
    data = filled_in(form)
    submit = message_action(connector, "composeExtension/submitAction", payload() | {"data": data | {"severity": "2"}})
    connector.fail_next(503, times=4)  # every attempt the turn makes

    status, body = await bot.post_activity(submit)
    await bot.settle()

    assert status == 200 and body["task"]["value"] == "Issue raised: its card is in the thread."
    assert connector.calls == [] and len(connector.failed_attempts) == 4
    await bot.app[SCHEDULER].tick(clock.now())
    [post] = connector.calls
    assert post.method == "POST" and post.conversation_id == submit["conversation"]["id"]
    assert "Raised from a message" in card_text(post.card)
    async with engine.connect() as connection:
        [issue] = (await connection.execute(select(IssueRow))).all()
    assert issue.source_url == LINK


async def test_an_invalid_dialog_submission_comes_back_with_the_errors(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    data = {"form_id": "a" * 32, "title": "", "severity": "9", "source_url": "javascript:alert(1)"}
    status, body = await bot.post_activity(message_action(connector, "composeExtension/submitAction", payload() | {"data": data}))
    assert status == 200
    card = dialog_card(body)
    assert "Please correct: Title, Severity" in card_text(card)
    assert "javascript" not in card_text(card)  # a forged link is dropped, never shown
    async with engine.connect() as connection:
        assert (await connection.execute(select(IssueRow))).all() == []
    assert connector.calls == []
