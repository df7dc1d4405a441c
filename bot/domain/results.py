"""What a use case that changes an issue answers: applied, refused, stale or not found; and a plain change's outcome."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Issue, Person
from bot.domain.triage import Event


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class Applied(_Result):
    issue: Issue
    event: Event
    announcement: str | None = None
    # People to @mention with `notice` in the issue's thread.
    notify: tuple[Person, ...] = ()
    notice: str | None = None
    # Other issues the change touched (a duplicate's target), whose cards need refreshing too.
    also_changed: tuple[Issue, ...] = ()


class Refused(_Result):
    issue: Issue
    reason: str
    # The command's field the refusal is about, if one (see triage.Refusal).
    field: str | None = None


class Stale(_Result):
    """The card was older than the issue; `change` says what happened since (None: the same click again)."""

    issue: Issue
    change: str | None


class NotFound(_Result):
    reason: str


TriageResult = Applied | Refused | Stale | NotFound


class ChangeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    changed: bool
    message: str
