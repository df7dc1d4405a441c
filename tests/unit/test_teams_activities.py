"""Translation of Teams activities into plain inbound messages."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import Activity

from bot.teams.activities import html_to_text, to_inbound_message


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
