"""Translation of Teams activities into plain inbound messages."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import logging

import pytest
from botbuilder.schema import Activity

from bot.teams.activities import (
    ADAPTIVE_CARD, MAX_HTML_CHARS, SerialisedCard, card_message, compact_json, html_to_text, to_inbound_message, too_large,
    within_size_limit,
)
from cards.common import MAX_CARD_BYTES, card_bytes
from cards.notice import render_notice_card


def activity(text: str, *, bot_name: str = "Ops", entities: list[dict[str, Any]] | None = None) -> Activity:
    mention = {"type": "mention", "text": f"<at>{bot_name}</at>", "mentioned": {"id": "28:bot", "name": bot_name}}
    return Activity().deserialize(
        {
            "type": "message",
            "id": "1",
            "text": text,
            "serviceUrl": "https://smba.example/",
            "channelId": "msteams",
            "from": {"id": "29:u", "name": "Priya", "aadObjectId": "aad-1"},
            "recipient": {"id": "28:bot", "name": bot_name},
            "conversation": {"id": "19:c@thread.tacv2;messageid=1", "conversationType": "channel"},
            "channelData": {"tenant": {"id": "t1"}, "team": {"id": "19:team"}, "channel": {"id": "19:c@thread.tacv2"}},
            "entities": [mention] if entities is None else entities,
        }
    )


def test_mention_is_removed_by_its_entity_not_by_the_bot_name() -> None:
    # botbuilder's remove_recipient_mention would also eat "Ops" out of "Opsgenie".
    message = to_inbound_message(activity("<at>Ops</at> Opsgenie alerts for Ops team stopped"))
    assert message.text == "Opsgenie alerts for Ops team stopped"


def test_other_peoples_mentions_keep_their_names() -> None:
    other = {"type": "mention", "text": "<at>Priya</at>", "mentioned": {"id": "29:priya", "name": "Priya"}}
    mine = {"type": "mention", "text": "<at>Ops</at>", "mentioned": {"id": "28:bot", "name": "Ops"}}
    message = to_inbound_message(activity("<at>Ops</at> ask <at>Priya</at> about AP", entities=[other, mine]))
    assert message.text == "ask Priya about AP"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Posting &amp; settlement fail</p>", "Posting & settlement fail"),
        ("<div>line one</div><div>line&nbsp;two</div>", "line one\nline two"),
        ("a &lt;b&gt; c", "a <b> c"),
        ("Müller &eacute;t&eacute; 😀", "Müller été 😀"),
        ("<p></p>", ""),
        ("one<br>two", "one\ntwo"),
        ("x < 5 and <3, a<b", "x < 5 and <3, a<b"),
        ('<span style="color:red">red</span> <A HREF="https://x.example">link</A>', "red link"),
        ("<!-- a comment -->kept<?php x ?>", "kept"),
        ("<p>unclosed <p", "unclosed <p"),
        ("&#65;&#x42;&amp;&bogus; &copy", "AB&&bogus; ©"),
        ("&#" + "9" * 5000 + ";", "\ufffd"),  # out of range (and too long for int()): the replacement character
        ("&#" + "0" * 5000 + "65;&#00000000;", "A\ufffd"),  # leading zeros do not count
    ],
)
def test_html_is_reduced_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_message_carries_sender_and_war_room_key() -> None:
    message = to_inbound_message(activity("<at>Ops</at> hi"))
    assert message.sender.name == "Priya" and message.sender.aad_object_id == "aad-1"
    assert message.conversation.tenant_id == "t1"
    assert message.conversation.war_room_key == "t1/team:19:team"
    assert message.conversation.channel_id == "19:c@thread.tacv2"


THREAD = "19:c@thread.tacv2;messageid=1700000000000"


def huge_card() -> dict[str, Any]:
    return render_notice_card("ü" * MAX_CARD_BYTES)


def test_an_activity_within_the_limit_is_sent_as_it_is() -> None:
    message = card_message(render_notice_card("Hello"), activity_id="a-1")
    assert within_size_limit(message, conversation_id=THREAD) is message


def test_an_oversized_activity_carries_a_short_note_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    message = card_message(huge_card(), activity_id="a-1") | {"text": "x" * MAX_CARD_BYTES, "replyToId": "r-1"}
    with caplog.at_level(logging.WARNING, logger="bot.teams.activities"):
        sent = within_size_limit(message, conversation_id=THREAD)
    assert card_bytes(message) > MAX_CARD_BYTES >= card_bytes(sent)
    assert (sent["id"], sent["replyToId"], "text" in sent) == ("a-1", "r-1", False)
    [attachment] = sent["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    assert "too large for Teams" in attachment["content"]["body"][0]["text"]
    [link] = attachment["content"]["actions"]
    assert link["url"].startswith("https://teams.microsoft.com/l/message/19%3Ac%40thread.tacv2/1700000000000?parentMessageId=")
    [record] = caplog.records
    assert "too large" in record.getMessage() and THREAD in record.getMessage()


def test_a_card_serialised_once_is_the_same_text_in_the_invoke_answer_and_the_put(caplog: pytest.LogCaptureFixture) -> None:
    card = render_notice_card("Acknowledged by Omar — “déjà vu”")
    serialised = SerialisedCard.of(card, conversation_id=THREAD)
    assert serialised.update_body("a-1") == compact_json(card_message(card, activity_id="a-1"))
    answer = json.loads(serialised.invoke_answer())
    assert answer == {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}
    with caplog.at_level(logging.WARNING, logger="bot.teams.activities"):
        oversized = SerialisedCard.of(huge_card(), conversation_id=THREAD)
        note = json.loads(oversized.invoke_answer())["value"]
        assert json.loads(oversized.update_body("a-1")) == card_message(note, activity_id="a-1")
    assert "too large for Teams" in note["body"][0]["text"]
    assert len(caplog.records) == 1  # replaced once, for both bodies


def test_an_oversized_card_outside_a_thread_is_replaced_without_a_link() -> None:
    note = too_large(huge_card(), conversation_id="a:personal-chat")
    assert note is not None and "actions" not in note
    assert too_large(render_notice_card("Hello"), conversation_id="a:personal-chat") is None


def cpu_seconds(work: Callable[[], object]) -> float:
    """The least CPU time (not wall time) of a few runs: what the work costs, without the noise of a busy machine."""
    costs = []
    for _ in range(5):
        started = time.process_time()
        work()
        costs.append(time.process_time() - started)
    return min(costs)


FLOODS: dict[str, Callable[[int], str]] = {
    "p": lambda size: "<p" * (size // 2),
    "a-space": lambda size: "<a " * (size // 3),
    "comment": lambda size: "<!--" * (size // 4),
    "end-tag": lambda size: "</" * (size // 2),
    "charref": lambda size: "&#1" * (size // 3),
    "long-name": lambda size: "<" + "a" * size,  # a regex whose name and rest overlap backtracks on this
}


@pytest.mark.parametrize("flood", FLOODS.values(), ids=FLOODS.keys())
def test_html_to_text_takes_linear_time_on_a_tag_flood(flood: Callable[[int], str]) -> None:
    # html.parser is quadratic on the first three (CPython gh-135462): 4 times the input took 10 to 17 times the CPU.
    small, large = flood(4_000), flood(16_000)
    assert cpu_seconds(lambda: html_to_text(large)) < 8 * cpu_seconds(lambda: html_to_text(small)) + 0.001


def test_a_100_kb_tag_flood_costs_well_under_a_second_of_cpu() -> None:
    # The unfixed parser spent over ten seconds on this; a linear pass takes milliseconds.
    assert cpu_seconds(lambda: html_to_text("<p" * 50_000)) < 0.1


def test_text_beyond_any_genuine_message_is_not_read() -> None:
    text = html_to_text("<p>" + "word " * 30_000 + "</p>" + "<p>tail</p>")
    assert len(text) <= MAX_HTML_CHARS and "tail" not in text
    assert html_to_text("a" * (MAX_HTML_CHARS - 2) + "<span class='cut here'>b</span>") == "a" * (MAX_HTML_CHARS - 2)
