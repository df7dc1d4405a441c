"""Domain objects for tests: `make_issue(**overrides)`, `make_conversation(**overrides)`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.model import Area, Category, Issue, Person, Severity, Status
from bot.domain.messages import ConversationRef

RAISED_AT = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
PRIYA = Person(aad_object_id="aad-priya", name="Priya Shah")
OMAR = Person(aad_object_id="aad-omar", name="Omar Haddad")


def make_issue(**overrides: Any) -> Issue:
    values: dict[str, Any] = {
        "id": 1,
        "war_room_id": 1,
        "number": 12,
        "title": "AP cannot post vendor invoices",
        "description": "Posting profile missing in USMF.",
        "severity": Severity.SEV1,
        "category": Category.CONFIGURATION,
        "area": Area.ACCOUNTS_PAYABLE,
        "company": "USMF",
        "affected_users": 12,
        "status": Status.NEW,
        "reporter": PRIYA,
        "created_at": RAISED_AT,
        "updated_at": RAISED_AT,
        "resolve_by": datetime(2026, 11, 23, 13, 5, tzinfo=UTC),
        "version": 1,
        "conversation_id": "19:general@thread.tacv2;messageid=100",
        "card_activity_id": "card-100",
    }
    return Issue.model_validate(values | overrides)


def make_conversation(**overrides: Any) -> ConversationRef:
    """The thread of issue #12 in a team's General channel."""
    values: dict[str, Any] = {
        "conversation_id": "19:general@thread.tacv2;messageid=100",
        "conversation_type": "channel",
        "service_url": "https://smba.example/emea/",
        "channel": "msteams",
        "bot_id": "28:bot",
        "tenant_id": "tenant-1",
        "team_id": "19:team@thread.tacv2",
        "channel_id": "19:general@thread.tacv2",
    }
    return ConversationRef.model_validate(values | overrides)
