"""A war room's own settings and its on-call arrangement."""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.domain.calendar import WEEKDAYS, WorkingCalendar
from bot.domain.messages import ConversationRef
from bot.domain.model import Person
from bot.domain.policy import DEFAULT_POLICY, SeverityPolicy
from bot.domain.priorities import StandupParticipants
from bot.domain.window import WarRoomKind, WindowPreset, holds_standups

# Hypercare runs for weeks; a phase is at most a year long, like every span in the policy.
MAX_PHASE_DAYS = 366


class WarRoomSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    calendar: WorkingCalendar = WorkingCalendar()
    standup_time: time = time(9, 0)
    policy: SeverityPolicy = DEFAULT_POLICY
    # The phase: a fixed, visible start and planned end (local dates), and the agreed exit targets.
    starts_on: date | None = None
    ends_on: date | None = None
    # The preset the window was set up from; its band of weeks is what the setup card checks the window against.
    preset: WindowPreset = WindowPreset.CUSTOM
    sev2_cap: int = Field(default=5, ge=0, le=1000)
    support_share_target: int = Field(default=80, ge=0, le=100)  # percent of incoming issues the support side handles
    sla_target: int = Field(default=90, ge=0, le=100)  # percent of Sev 1/2 resolved within target
    # A resolution nobody confirms or calls still broken closes by itself after this many working days.
    auto_close_working_days: int = Field(default=3, ge=1, le=30)
    # Where new problems go after sign-off (the steady-state support process): text, may hold a link.
    steady_state_support: str = Field(default="", max_length=500)
    # Who the scheduled stand-up @mentions, besides the owners of what is breached or undecided.
    standup_participants: StandupParticipants = StandupParticipants()

    @model_validator(mode="after")
    def _end_after_start(self) -> WarRoomSettings:
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValueError("the planned end must be after the start")
        if self.starts_on and self.ends_on and (self.ends_on - self.starts_on).days >= MAX_PHASE_DAYS:
            raise ValueError("hypercare lasts at most a year: the planned end must be within a year of the start")
        return self

    @property
    def set_up(self) -> bool:
        """The window is set up once it has an agreed end (the setup card saves none without one)."""
        return self.ends_on is not None

    @property
    def support_route(self) -> str:
        """Where new problems go once hypercare is signed off."""
        return self.steady_state_support or "the usual support process (ask your admin to name it in `setup`)"

    def extended_end(self, *, now: datetime, until: date | None = None, weeks: int = 0) -> date:
        """The end an extension asks for: a date, or `weeks` after the planned end (after today when none is set)."""
        return until or (self.ends_on or self.calendar.local_date(now)) + timedelta(weeks=weeks)

    def ending_on(self, ends_on: date) -> WarRoomSettings:
        """These settings with a new planned end, checked like any other change (ValueError if refused)."""
        try:
            return WarRoomSettings.model_validate(self.model_dump() | {"ends_on": ends_on})
        except ValidationError as error:
            raise ValueError("; ".join(str(problem["ctx"]["error"]) if "error" in problem.get("ctx", {}) else problem["msg"]
                                       for problem in error.errors())) from error

    @classmethod
    def from_stored(cls, raw: dict[str, Any] | None) -> tuple[WarRoomSettings, tuple[str, ...]]:
        """Settings as a war room row holds them, and what in them today's rules refuse.

        A refused value (stored before a rule existed, or by hand) gives way to its default, so one bad value
        neither takes its war room down nor loses the others; each problem says what was replaced.
        """
        if not raw:
            return cls(), ()
        try:
            return cls.model_validate(raw), ()
        except ValidationError as error:
            return _with_defaults(copy.deepcopy(raw), error)

    def next_standup_at(self, after: datetime) -> datetime:
        """The first stand-up strictly after `after`: the local stand-up time on a working day."""
        day = self.calendar.local_date(after)
        for _ in range(8):
            if self.calendar.is_working_day(day):
                moment = self.calendar.at_local(day, self.standup_time)
                if moment > after:
                    return moment
            day += timedelta(days=1)
        raise AssertionError("unreachable: the calendar has a working day every week")


class OnCallOverride(BaseModel):
    model_config = ConfigDict(frozen=True)

    person: Person
    until: datetime | None = None


class OnCallRota(BaseModel):
    """People take turns a week at a time, handing over on a weekday at a local hour."""

    model_config = ConfigDict(frozen=True)

    people: tuple[Person, ...] = Field(min_length=1)
    handover_weekday: int = Field(default=0, ge=0, le=6)  # Monday
    handover_time: time = time(9, 0)
    # The handover at which people[0] started.
    starts: date

    @classmethod
    def starting_now(
        cls, people: tuple[Person, ...], *, handover_weekday: int, handover_time: time | None, now: datetime,
        calendar: WorkingCalendar,
    ) -> OnCallRota:
        """A rota whose first person is on call from the latest handover at or before `now`."""
        handover_at = handover_time or time(9, 0)
        today = calendar.local_date(now)
        starts = today - timedelta(days=(today.weekday() - handover_weekday) % 7)
        if calendar.at_local(starts, handover_at) > now:
            starts -= timedelta(days=7)
        return cls(people=people, handover_weekday=handover_weekday, handover_time=handover_at, starts=starts)

    def describe(self) -> str:
        weekday = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")[self.handover_weekday]
        names = ", ".join(person.name for person in self.people)
        return f"On-call rota: {names}, a week each, handing over {self.handover_time:%H:%M} on {weekday}."


class OnCall(BaseModel):
    model_config = ConfigDict(frozen=True)

    override: OnCallOverride | None = None
    rota: OnCallRota | None = None

    @model_validator(mode="after")
    def _rota_starts_on_handover_day(self) -> OnCall:
        if self.rota and self.rota.starts.weekday() != self.rota.handover_weekday:
            raise ValueError("the rota must start on its handover weekday")
        return self

    @classmethod
    def from_stored(cls, raw: dict[str, Any] | None) -> tuple[OnCall, tuple[str, ...]]:
        """The arrangement a war room row holds, or (if today's rules refuse it) nobody on call, and why."""
        if not raw:
            return cls(), ()
        try:
            return cls.model_validate(raw), ()
        except ValidationError as error:
            reason = error.errors()[0]["msg"]
            return cls(), (f"on-call: {reason}; nobody is on call until `oncall set` or `oncall rota` sets it again",)

    def on_call(self, now: datetime, calendar: WorkingCalendar) -> Person | None:
        """Who is on call now: a current override, else whoever's week of the rota it is."""
        if self.override and (self.override.until is None or now < self.override.until):
            return self.override.person
        if not self.rota:
            return None
        first_handover = calendar.at_local(self.rota.starts, self.rota.handover_time)
        if now < first_handover:
            return None
        # Count handovers by local dates so a daylight-saving week is still one week.
        weeks = (calendar.local_date(now) - self.rota.starts).days // 7
        this_weeks_handover = calendar.at_local(self.rota.starts + timedelta(weeks=weeks), self.rota.handover_time)
        if now < this_weeks_handover:
            weeks -= 1
        return self.rota.people[weeks % len(self.rota.people)]


class OnCallView(BaseModel):
    """What `oncall` shows: who is on call now, and the arrangement behind it."""

    model_config = ConfigDict(frozen=True)

    on_call: Person | None
    oncall: OnCall
    settings: WarRoomSettings


class WarRoom(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    key: str
    tenant_id: str | None
    team_id: str | None
    name: str | None
    settings: WarRoomSettings
    # What the stored settings held that today's rules refuse, each replaced by its default (see from_stored).
    settings_problems: tuple[str, ...] = ()
    oncall: OnCall
    home_conversation_id: str | None
    home_channel_id: str | None
    home_service_url: str | None
    bot_id: str | None
    next_standup_at: datetime | None
    last_standup_at: datetime | None
    signed_off_at: datetime | None = None
    signed_off_by: Person | None = None
    kind: WarRoomKind = WarRoomKind.TEAM
    # What leadership was told already, once each (see bot/domain/standup.py standup_notices): the planned end whose
    # overrun they were @mentioned about, and when they were told the exit criteria pass.
    overrun_told_for: date | None = None
    ready_told_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return self.name or "this war room"

    def next_standup(self, after: datetime) -> datetime | None:
        """The next stand-up after `after`, or None when this war room holds none (see holds_standups)."""
        held = holds_standups(self.kind, set_up=self.settings.set_up, signed_off=self.signed_off_at is not None)
        return self.settings.next_standup_at(after) if held else None

    @property
    def home(self) -> ConversationRef | None:
        """Where stand-ups, announcements and cards of issues raised in personal chats go: a channel, or a group chat."""
        if not (self.home_conversation_id and self.home_service_url and self.bot_id):
            return None
        return ConversationRef(
            conversation_id=self.home_conversation_id, conversation_type="channel" if self.home_channel_id else "groupChat",
            service_url=self.home_service_url, channel="msteams", bot_id=self.bot_id, tenant_id=self.tenant_id,
            team_id=self.team_id, channel_id=self.home_channel_id,
        )


SETTING_KEYS = (
    "time_zone", "working_days", "working_hours", "standup_time", "standup_participants", "standup_people",
    "auto_close_working_days",
    "sevN.acknowledge_within", "sevN.remind_unacknowledged_every", "sevN.remind_open_every", "sevN.resolve_within",
    "sevN.clock",
)


def setting_name(location: tuple[int | str, ...]) -> str:
    """A validation error's location as `hypercare settings` names it: `sev2.resolve_within`, `time_zone`."""
    parts = [str(part) for part in location]
    if parts[:2] == ["policy", "rules"] and len(parts) > 2:
        return ".".join([f"sev{parts[2]}", *parts[3:]])
    if parts[:1] == ["calendar"] and len(parts) > 1:
        return ".".join(parts[1:])
    return ".".join(parts) or "settings"


def problem_text(message: str) -> str:
    return message.removeprefix("Value error, ")


def _with_defaults(data: Any, error: ValidationError) -> tuple[WarRoomSettings, tuple[str, ...]]:
    defaults = WarRoomSettings().model_dump(mode="json")
    problems: list[str] = []
    while True:  # a check on a whole (the calendar, the settings) runs only once its parts pass
        for problem in error.errors():
            data, text = _use_default(data, defaults, problem["loc"], problem_text(problem["msg"]))
            problems.append(text)
        try:
            return WarRoomSettings.model_validate(data), tuple(problems)
        except ValidationError as again:
            error = again


def _use_default(data: Any, defaults: dict[str, Any], location: tuple[int | str, ...], problem: str) -> tuple[Any, str]:
    """`data` with the value at `location` replaced by its default, and what was done: the default is that of the
    deepest enclosing value that has one of its own (a whole list, the calendar, or in the end all the settings)."""
    path: list[str] = []
    here, default = data, defaults
    for key in map(str, location):
        if not (isinstance(here, dict) and isinstance(default, dict) and key in here and key in default):
            break
        path.append(key)
        here, default = here[key], default[key]
    scalar = default is None or isinstance(default, (str, int, float))
    replacement = f"the default {'none' if default is None else default}" if scalar else "the defaults"
    text = f"{setting_name(tuple(path))}: {problem}; using {replacement}"
    if not path:
        return copy.deepcopy(defaults), text
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = copy.deepcopy(default)
    return data, text


def _people(assignment: str, value: str) -> list[dict[str, str]]:
    if value.lower() in ("none", ""):
        return []
    people = []
    for part in value.split(","):
        object_id, colon, name = part.partition(":")
        if not (colon and object_id.strip() and name.strip()):
            raise ValueError(f"{assignment!r}: write standup_people=<AAD object id>:<name>,… (or none)")
        people.append({"aad_object_id": object_id.strip(), "name": name.strip()})
    return people


def apply_setting_changes(settings: WarRoomSettings, assignments: list[str]) -> WarRoomSettings:
    """`key=value` changes (see SETTING_KEYS) applied to a copy; ValueError names what is wrong."""
    data = settings.model_dump(mode="json")
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            raise ValueError(f"{assignment!r}: write key=value")
        if key == "time_zone":
            data["calendar"]["time_zone"] = value
        elif key == "working_days":
            try:
                data["calendar"]["working_days"] = [WEEKDAYS.index(day.strip().lower()[:3]) for day in value.split(",")]
            except ValueError:
                raise ValueError(f"{assignment!r}: days are mon,tue,wed,thu,fri,sat,sun") from None
        elif key == "working_hours":
            start, dash, end = value.partition("-")
            if not dash:
                raise ValueError(f"{assignment!r}: write working_hours=08:00-18:00")
            data["calendar"]["day_start"], data["calendar"]["day_end"] = start.strip(), end.strip()
        elif key in ("standup_time", "auto_close_working_days"):
            data[key] = value
        elif key == "standup_participants":  # roles: triage_lead,oncall (none: nobody by role)
            data["standup_participants"]["roles"] = [] if value.lower() in ("none", "") else [part.strip() for part in value.split(",")]
        elif key == "standup_people":  # people: <AAD object id>:<name>, comma-separated (none: nobody by name)
            data["standup_participants"]["people"] = _people(assignment, value)
        elif key[:3] == "sev" and "." in key and key[3:4] in "1234":
            field = key.split(".", 1)[1]
            rule = data["policy"]["rules"][key[3]]
            if field not in rule:
                raise ValueError(f"{assignment!r}: a severity has {', '.join(rule)}")
            rule[field] = None if value.lower() in ("none", "-", "") else value
        else:
            raise ValueError(f"{assignment!r}: known settings are {', '.join(SETTING_KEYS)}")
    try:
        return WarRoomSettings.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{setting_name(e['loc'])}: {problem_text(e['msg'])}" for e in error.errors())
        raise ValueError(problems) from None
