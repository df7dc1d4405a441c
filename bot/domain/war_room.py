"""A war room's own settings and its on-call arrangement."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain.calendar import WorkingCalendar
from bot.domain.model import Person
from bot.domain.policy import DEFAULT_POLICY, SeverityPolicy


class WarRoomSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    calendar: WorkingCalendar = WorkingCalendar()
    standup_time: time = time(9, 0)
    policy: SeverityPolicy = DEFAULT_POLICY

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


class OnCall(BaseModel):
    model_config = ConfigDict(frozen=True)

    override: OnCallOverride | None = None
    rota: OnCallRota | None = None

    @model_validator(mode="after")
    def _rota_starts_on_handover_day(self) -> OnCall:
        if self.rota and self.rota.starts.weekday() != self.rota.handover_weekday:
            raise ValueError("the rota must start on its handover weekday")
        return self

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
    oncall: OnCall
    home_conversation_id: str | None
    home_channel_id: str | None
    home_service_url: str | None
    bot_id: str | None
    next_standup_at: datetime | None
    last_standup_at: datetime | None

    @property
    def display_name(self) -> str:
        return self.name or "this war room"
