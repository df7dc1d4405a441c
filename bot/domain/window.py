"""The hypercare window: which war rooms hold a daily stand-up, the presets a window is set up from, and the band of
weeks each preset is expected to fit.

Hypercare is time-boxed with an agreed end; the presets are the usual lengths for the two Dynamics 365 families
(Business Central at small and mid-sized businesses, Finance & Supply Chain Management at enterprises). A window
outside its preset's band is allowed (the project knows its own reasons) but said plainly.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import Enum

from pydantic import BaseModel, ConfigDict


class WarRoomKind(str, Enum):
    TEAM = "team"
    GROUP_CHAT = "group_chat"
    PERSONAL_CHAT = "personal_chat"

    @classmethod
    def of(cls, *, team_id: str | None, conversation_type: str | None) -> WarRoomKind:
        """Teams' conversation types: `channel` (in a team), `groupChat`, `personal`."""
        if team_id:
            return cls.TEAM
        return cls.PERSONAL_CHAT if conversation_type == "personal" else cls.GROUP_CHAT


def holds_standups(kind: WarRoomKind, *, set_up: bool, signed_off: bool) -> bool:
    """Whether a war room gets the daily stand-up.

    A personal chat never (one person is no stand-up); a group chat only once its window is set up (a chat that
    merely tried the bot must not be woken every morning); a team always, so that until it is set up its stand-up
    asks for it. After leadership's sign-off, nobody: hypercare is over.
    """
    if signed_off or kind is WarRoomKind.PERSONAL_CHAT:
        return False
    return kind is WarRoomKind.TEAM or set_up


class WindowPreset(str, Enum):
    BC_SMB = "bc_smb"
    FSCM_ENTERPRISE = "fscm_enterprise"
    CUSTOM = "custom"


class Band(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    low_weeks: int
    high_weeks: int
    default_weeks: int

    def text(self) -> str:
        return f"{self.title}, {self.low_weeks}–{self.high_weeks} weeks ({self.default_weeks} by default)"


BANDS: dict[WindowPreset, Band] = {
    WindowPreset.BC_SMB: Band(title="Business Central, SMB", low_weeks=2, high_weeks=4, default_weeks=3),
    WindowPreset.FSCM_ENTERPRISE: Band(title="Finance & SCM, enterprise", low_weeks=4, high_weeks=12, default_weeks=8),
}


def window_end(preset: WindowPreset, starts_on: date, weeks: int | None) -> date | None:
    """The planned end of a window of `weeks` (the preset's default when None) from `starts_on`, its last day
    included; None for a custom window without a length."""
    band = BANDS.get(preset)
    length = weeks or (band.default_weeks if band else None)
    return starts_on + timedelta(weeks=length, days=-1) if length else None


def band_warning(preset: WindowPreset, starts_on: date | None, ends_on: date | None) -> str | None:
    """What to say when a window does not fit its preset's band (it is saved all the same)."""
    band = BANDS.get(preset)
    if band is None or starts_on is None or ends_on is None:
        return None
    days = (ends_on - starts_on).days + 1  # both days included
    if band.low_weeks * 7 <= days <= band.high_weeks * 7:
        return None
    weeks = ", ".join(part for part in (_count(days // 7, "week"), _count(days % 7, "day")) if part)
    return (f"{band.title} hypercare usually runs {band.low_weeks}–{band.high_weeks} weeks; this window runs {weeks} "
            f"({starts_on:%d %b} – {ends_on:%d %b %Y}). Saved as you asked; check it is what was agreed.")


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}{'s' if number != 1 else ''}" if number else ""
