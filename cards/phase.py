"""Cards of the phase: the war-room setup form and the exit criteria with leadership's sign-off."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from bot.domain.exit_criteria import ExitReport
from bot.domain.model import Person, Role, Severity
from bot.domain.war_room import WarRoomSettings
from bot.domain.window import BANDS, WindowPreset, band_warning, window_end
from cards.common import (
    Card,
    adaptive_card,
    capped_mention_lines,
    card_time,
    choice_set,
    execute,
    input_error,
    plain_text,
    rich_text,
    show_card,
    text_block,
    text_input,
    text_run,
    with_mentions,
)

SETUP_VERB = "setup.save"
# "Set up hypercare" (on the stand-up's setup prompt, the welcome card): answered with the setup form.
SETUP_OPEN_VERB = "setup.open"
SIGN_OFF_VERB = "phase.signoff"
WITHDRAW_VERB = "phase.withdraw"
_POLICY_FIELDS = ("acknowledge_within", "remind_unacknowledged_every", "remind_open_every", "resolve_within")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _number(input_id: str, label: str, value: int | None, low: int, high: int, rule: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "Input.Number", "id": input_id, "label": label, "min": low, "max": high, "errorMessage": rule}
    if value is not None:
        element["value"] = value
    return element


_PRESET_CHOICES = [(f"{band.text()}", preset.value) for preset, band in BANDS.items()] + [
    ("Custom: give the planned end, or its length in weeks", WindowPreset.CUSTOM.value)
]


def render_setup(
    settings: WarRoomSettings, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, saved: bool = False,
    today: date | None = None,
) -> Card:
    """The setup form; after an error it shows what was typed (`values`), otherwise the current settings (a window
    not started yet is offered `today` as its start)."""
    errors = errors or {}
    typed = values or {}

    def value(key: str, current: object) -> str:
        return typed.get(key, "" if current is None else str(current))

    def number(key: str, current: int | None) -> int | None:
        """What was typed, if it is a number (an Input.Number shows nothing else), else the current value."""
        raw = typed.get(key)
        try:
            return int(float(raw)) if raw not in (None, "") else current
        except ValueError:
            return current

    calendar = settings.calendar
    fields: list[dict[str, Any]] = [
        text_block("Set up this war room", size="Medium", weight="Bolder"),
        text_block("The phase, its working hours and the agreed exit targets. Times are this war room's local time."),
    ]
    if saved:
        fields.append(text_block("Saved.", color="Good", weight="Bolder", id="saved"))
    if errors:
        fields.append(text_block(f"Nothing was saved. Please correct: {', '.join(errors)}.", color="Attention", weight="Bolder", id="setup_errors"))
    elif warning := band_warning(settings.preset, settings.starts_on, settings.ends_on):
        fields.append({"type": "Container", "style": "warning", "id": "band_warning", "items": [text_block(warning)]})
    inputs: list[tuple[dict[str, Any], str]] = [
        (choice_set("preset", "Kind of go-live (sets the usual length)", _PRESET_CHOICES, value=value("preset", settings.preset.value)), "preset"),
        ({"type": "Input.Date", "id": "starts_on", "label": "Hypercare starts", "value": value("starts_on", settings.starts_on or today)}, "starts_on"),
        ({"type": "Input.Date", "id": "ends_on", "label": "Planned end (required: hypercare is time-boxed)", "value": value("ends_on", settings.ends_on)}, "ends_on"),
        (_number("weeks", "…or its length in weeks (when no end is given; the preset's usual length otherwise)", number("weeks", None), 1, 52,
                 "1 to 52 weeks"), "weeks"),
        (text_input("time_zone", "Time zone (IANA name)", value=value("time_zone", calendar.time_zone), isRequired=True,
                    errorMessage="An IANA time zone such as Europe/London"), "time_zone"),
        ({"type": "Input.Time", "id": "standup_time", "label": "Stand-up at", "value": value("standup_time", settings.standup_time.strftime("%H:%M"))}, "standup_time"),
        ({"type": "Input.Time", "id": "day_start", "label": "Working day starts", "value": value("day_start", calendar.day_start.strftime("%H:%M"))}, "day_start"),
        ({"type": "Input.Time", "id": "day_end", "label": "Working day ends", "value": value("day_end", calendar.day_end.strftime("%H:%M"))}, "day_end"),
        (choice_set("working_days", "Working days", [(name, str(n)) for n, name in enumerate(_DAY_NAMES)],
                    value=value("working_days", ",".join(str(d) for d in sorted(calendar.working_days))), isMultiSelect=True), "working_days"),
        (_number("sev2_cap", "Sev 2 backlog cap (exit criterion)", number("sev2_cap", settings.sev2_cap), 0, 1000, "0 or more"), "sev2_cap"),
        (_number("support_share_target", "Support-team share target, %", number("support_share_target", settings.support_share_target), 0, 100, "0 to 100"), "support_share_target"),
        (_number("sla_target", "Sev 1/2 within-target target, %", number("sla_target", settings.sla_target), 0, 100, "0 to 100"), "sla_target"),
        (choice_set("standup_roles", "The stand-up @mentions these roles (and the owners of what is breached or undecided)",
                    [(role.label.capitalize(), role.value) for role in Role],
                    value=value("standup_roles", ",".join(role.value for role in settings.standup_participants.roles)),
                    isMultiSelect=True), "standup_roles"),
        (_number("auto_close_working_days", "A resolution nobody confirms closes by itself after … working days",
                 number("auto_close_working_days", settings.auto_close_working_days), 1, 30, "1 to 30"), "auto_close_working_days"),
        (text_input("steady_state_support", "After sign-off, new problems go to", value=value("steady_state_support", settings.steady_state_support),
                    placeholder="e.g. the IT service desk: https://contoso.service-now.com", maxLength=500), "steady_state_support"),
    ]
    for element, key in inputs:
        fields += [element, *input_error(key, errors)]
    policy_inputs: list[dict[str, Any]] = []
    for severity in Severity:
        rule = settings.policy.rule(severity)
        policy_inputs.append(text_block(f"{severity.label} — {severity.meaning}", weight="Bolder", spacing="Medium"))
        for field in _POLICY_FIELDS:
            key = f"sev{int(severity)}_{field}"
            current = getattr(rule, field)
            policy_inputs += [
                text_input(key, field.replace("_", " ").capitalize() + " (15m, 2h, 1d or none)", value=value(key, current or "none"), maxLength=10),
                *input_error(key, errors),
            ]
        key = f"sev{int(severity)}_clock"
        policy_inputs += [choice_set(key, "Clock", [("Round the clock", "24x7"), ("Working hours", "working")], value=value(key, rule.clock)), *input_error(key, errors)]
    save = execute("Save", SETUP_VERB, {}, style="positive")
    if any(key.startswith("sev") and key[3:4].isdigit() for key in errors):
        # A problem in the policy is shown where it is, not behind a fold-out.
        return adaptive_card([*fields, text_block("Severity policy", weight="Bolder", size="Medium"), *policy_inputs], [save])
    return adaptive_card(fields, [show_card("Severity policy", policy_inputs, []), save])


def parse_setup(data: dict[str, Any], current: WarRoomSettings) -> WarRoomSettings | dict[str, str]:
    """The settings the setup form asks for, or the problem with each input."""
    def text(key: str) -> str:
        raw = data.get(key)
        return raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))

    errors: dict[str, str] = {}
    raw = current.model_dump(mode="json")
    raw["starts_on"] = text("starts_on") or None
    raw["ends_on"] = text("ends_on") or None
    raw["preset"] = text("preset") or WindowPreset.CUSTOM.value
    if raw["preset"] not in {preset.value for preset in WindowPreset}:
        errors["preset"] = "Choose one of the kinds of go-live, or custom."
    elif not raw["ends_on"]:
        errors.update(_end_from_length(raw, WindowPreset(raw["preset"]), text("weeks")))
    raw["calendar"].update(time_zone=text("time_zone"), day_start=text("day_start") or raw["calendar"]["day_start"],
                           day_end=text("day_end") or raw["calendar"]["day_end"])
    days = [part for part in text("working_days").split(",") if part.strip()]
    raw["calendar"]["working_days"] = [int(day) for day in days if day.strip().isdigit()] if days else []
    raw["standup_time"] = text("standup_time") or raw["standup_time"]
    for key in ("sev2_cap", "support_share_target", "sla_target", "auto_close_working_days"):
        raw[key] = text(key) or raw[key]
    raw["steady_state_support"] = text("steady_state_support")
    if "standup_roles" in data:  # a form drawn before the setting existed leaves it as it is
        raw["standup_participants"]["roles"] = [part.strip() for part in text("standup_roles").split(",") if part.strip()]
    for severity in Severity:
        rule = raw["policy"]["rules"][str(int(severity))]
        for field in (*_POLICY_FIELDS, "clock"):
            typed = text(f"sev{int(severity)}_{field}")
            if typed:
                rule[field] = None if typed.lower() in ("none", "-") else typed
    try:  # checked even when the end is missing, so that every problem is named at once
        settings = WarRoomSettings.model_validate(raw)
    except ValidationError as error:
        for problem in error.errors():
            errors.setdefault(_input_for(problem["loc"]), problem["msg"].removeprefix("Value error, "))
        return errors
    return errors or settings


def _end_from_length(raw: dict[str, Any], preset: WindowPreset, weeks: str) -> dict[str, str]:
    """Fill in the planned end from the weeks typed, or the preset's usual length; no end at all is refused."""
    if weeks and not (weeks.isdigit() and 1 <= int(weeks) <= 52):
        return {"weeks": "Give 1 to 52 weeks."}
    if preset is WindowPreset.CUSTOM and not weeks:
        return {"ends_on": "Give the planned end, or the length in weeks: hypercare needs an agreed end."}
    if not raw["starts_on"]:
        return {"starts_on": "Give the start: the planned end is counted from it."}
    try:
        starts_on = date.fromisoformat(raw["starts_on"])
    except ValueError:
        return {"starts_on": "A date such as 2026-11-30."}
    raw["ends_on"] = str(window_end(preset, starts_on, int(weeks) if weeks else None))
    return {}


def _input_for(location: tuple[Any, ...]) -> str:
    """The form input a validation error belongs to."""
    parts = [str(part) for part in location]
    if parts[:1] == ["calendar"]:
        field = parts[1] if len(parts) > 1 else ""
        # An error on the calendar as a whole is "the day must start before it ends".
        return field if field in ("day_start", "day_end", "working_days", "time_zone") else "day_end"
    if parts[:2] == ["policy", "rules"] and len(parts) >= 4:
        return f"sev{parts[2]}_{parts[3]}"
    if parts and parts[0] in ("preset", "starts_on", "ends_on", "standup_time", "sev2_cap", "support_share_target", "sla_target",
                              "auto_close_working_days", "steady_state_support"):
        return parts[0]
    if parts[:1] == ["standup_participants"]:
        return "standup_roles"
    return "ends_on"  # the model-level check: the end must be after the start


def render_exit(report: ExitReport, *, war_room_name: str, notice: str | None = None) -> Card:
    body: list[dict[str, Any]] = [
        rich_text(text_run("Exit criteria · ", size="Medium", weight="Bolder"), text_run(war_room_name, size="Medium", weight="Bolder"))
    ]
    if notice:
        body.append({"type": "Container", "style": "emphasis", "id": "notice", "items": [plain_text(notice)]})
    if report.phase:
        body.append(text_block(f"{report.phase.text()} · planned end {report.ends_on_text}", isSubtle=True, spacing="Small"))
    for number, criterion in enumerate(report.criteria, start=1):
        mark = "✅" if criterion.passed else "❌"
        body.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {"type": "Column", "width": "auto", "items": [text_block(mark)]},
                    {"type": "Column", "width": "stretch", "items": [
                        text_block(f"**{number}. {criterion.label}**"),
                        text_block(f"Now: {criterion.value} · target {criterion.target}", isSubtle=True, spacing="None"),
                    ]},
                ],
            }
        )
    actions: list[dict[str, Any]] = []
    if report.signed_off_at:
        who = report.signed_off_by.name if report.signed_off_by else "leadership"
        body.append(
            rich_text(
                text_run("✅ 5. Leadership sign-off", weight="Bolder", color="Good"),
                text_run(f": signed off by {who}, {card_time(report.signed_off_at)}", color="Good"),
            )
        )
        actions.append(show_card("Withdraw sign-off", [text_input("withdraw_reason", "Why?", isRequired=True, maxLength=500, errorMessage="Give a reason")],
                                 [execute("Withdraw", WITHDRAW_VERB, {})]))
    else:
        if report.measured_pass:
            body.append(text_block("**5. Leadership sign-off**: criteria 1–4 pass; leadership may sign off.", color="Good"))
        else:
            body.append(text_block("**5. Leadership sign-off**: possible once criteria 1–4 pass.", isSubtle=True))
        sign = execute("Sign off hypercare", SIGN_OFF_VERB, {}, style="positive")
        sign["isEnabled"] = report.measured_pass
        sign["fallback"]["isEnabled"] = report.measured_pass
        actions.append(sign)
    if report.warning:
        body.insert(1, {"type": "Container", "style": "attention", "id": "warning", "items": [plain_text(report.warning)]})
    return adaptive_card(body, actions)


def render_ready_for_sign_off(report: ExitReport, *, war_room_name: str, leadership: tuple[Person, ...]) -> Card:
    """Told once when the criteria pass: the exit card, with its Sign off button, opened by a word to leadership."""
    card = render_exit(report, war_room_name=war_room_name)
    people, entities = capped_mention_lines("Leadership: ", leadership, spacing="Small")
    ready = {
        "type": "Container",
        "style": "good",
        "id": "ready",
        "items": [
            text_block("Ready for sign-off", size="Medium", weight="Bolder"),
            text_block("Every exit criterion the bot measures passes. Leadership can sign hypercare off with the button below; "
                       "new problems then go to steady-state support.", spacing="Small"),
            *people,
        ],
    }
    card["body"].insert(1, ready)
    return with_mentions(card, entities)


def criteria_lines(report: ExitReport) -> list[str]:
    """The exit criteria, one line each, for the stand-up."""
    lines = [f"{'✅' if c.passed else '❌'} {c.label}: {c.value} (target {c.target})" for c in report.criteria]
    signed = "signed off" if report.signed_off_at else "not signed off yet"
    lines.append(f"{'✅' if report.signed_off_at else '⏳'} Leadership sign-off: {signed}")
    return lines

