"""What every use case answers: applied, refused, stale or not found.

One family for every feature: `subject` is what the use case is about (an issue, the phase, a runbook, a
person's role), as it is after the answer, so a handler can show it with the answer's words.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Issue, Person
from bot.domain.events import Event

S = TypeVar("S")


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class Applied(_Result, Generic[S]):
    """The change was made (or there was nothing to change: `changed` is False, `message` says why)."""

    subject: S
    # For the person who asked.
    message: str = ""
    # For the whole war room.
    announcement: str | None = None
    changed: bool = True
    event: Event | None = None
    # People to @mention with `notice` in the issue's thread.
    notify: tuple[Person, ...] = ()
    notice: str | None = None
    # Other issues the change touched (a duplicate's target), whose cards need refreshing too.
    also_changed: tuple[Issue, ...] = ()


class Refused(_Result, Generic[S]):
    """Not allowed, or not possible as asked; `subject` as it stands, when there is one to show again."""

    reason: str
    subject: S | None = None
    # The input the refusal is about, if one (see triage.Refusal).
    field: str | None = None


class Stale(_Result):
    """The card was older than the issue; `change` says what happened since (None: the same click again)."""

    subject: Issue
    change: str | None


class NotFound(_Result):
    reason: str


TriageResult = Applied[Issue] | Refused[Issue] | Stale | NotFound
