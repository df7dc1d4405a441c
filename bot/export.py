"""The hypercare record for people who live in spreadsheets: the issue log, its history, and the figures.

`export_csv(…, out)` writes a .zip of CSV files (issues.csv, events.csv, runbooks.csv, metric_*.csv; UTF-8
with a BOM so Excel reads accents); `export_xlsx(…, path)` writes one workbook with a sheet per table. Both
write the same tables with the same headers (`export_tables`). The hand-over pack (bot/handover.py) holds both.

Conventions: one row per issue with every field of `Issue` (people as `…_name` and `…_id`; several
people, the followers, joined with "; "); times ISO 8601 in UTC (`2026-11-23T09:05:00Z`); durations
in hours; enums as their stored values. User text comes from Teams, so any text cell that starts
with = + - @ tab or CR is prefixed with a single quote (no formula runs when the file is opened), and
characters a workbook cannot hold (C0 controls) are removed from XLSX cells.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from bot.domain.exit_criteria import Ratio
from bot.domain.metrics import DurationStats, PhaseMetrics, Tally
from bot.domain.model import Issue, Person, Runbook
from bot.domain.events import Event

Cell = str | int | float | bool | None
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PEOPLE_SEPARATOR = "; "


@dataclass(frozen=True)
class Table:
    csv_name: str  # file name in the zip
    sheet_name: str  # ≤ 31 characters, as Excel requires
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


# --------------------------------------------------------------------------------------------- cell values


def neutralise(value: Cell) -> Cell:
    """Text that a spreadsheet would run as a formula gets a leading single quote; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 3)


def _value(member: Enum | None) -> Cell:
    return None if member is None else member.value


def _person(person: Person | None) -> tuple[Cell, Cell]:
    return (None, None) if person is None else (person.name, person.aad_object_id)


def _percent(ratio: Ratio) -> float | None:
    return None if ratio.percent is None else round(ratio.percent, 1)


# ------------------------------------------------------------------------------------------------- tables

# Column → how to read it from an issue. Every field of Issue appears (tests check the model against this).
ISSUE_COLUMNS: tuple[tuple[str, Callable[[Issue], Cell]], ...] = (
    ("id", lambda i: i.id),
    ("war_room_id", lambda i: i.war_room_id),
    ("number", lambda i: i.number),
    ("title", lambda i: i.title),
    ("description", lambda i: i.description),
    ("severity", lambda i: int(i.severity)),
    ("category", lambda i: _value(i.category)),
    ("area", lambda i: _value(i.area)),
    ("company", lambda i: i.company),
    ("affected_users", lambda i: i.affected_users),
    ("status", lambda i: i.status.value),
    ("reporter_name", lambda i: i.reporter.name),
    ("reporter_id", lambda i: i.reporter.aad_object_id),
    ("created_at", lambda i: utc_text(i.created_at)),
    ("updated_at", lambda i: utc_text(i.updated_at)),
    ("resolve_by", lambda i: utc_text(i.resolve_by)),
    ("version", lambda i: i.version),
    ("conversation_id", lambda i: i.conversation_id),
    ("card_activity_id", lambda i: i.card_activity_id),
    ("acknowledged_at", lambda i: utc_text(i.acknowledged_at)),
    ("acknowledged_by_name", lambda i: _person(i.acknowledged_by)[0]),
    ("acknowledged_by_id", lambda i: _person(i.acknowledged_by)[1]),
    ("assignee_name", lambda i: _person(i.assignee)[0]),
    ("assignee_id", lambda i: _person(i.assignee)[1]),
    ("latest_update_text", lambda i: i.latest_update.text if i.latest_update else None),
    ("latest_update_author_name", lambda i: i.latest_update.author.name if i.latest_update else None),
    ("latest_update_author_id", lambda i: i.latest_update.author.aad_object_id if i.latest_update else None),
    ("latest_update_at", lambda i: utc_text(i.latest_update.at) if i.latest_update else None),
    ("resolution_type", lambda i: i.resolution.type.value if i.resolution else None),
    ("resolution_notes", lambda i: i.resolution.notes if i.resolution else None),
    ("resolution_handled_by", lambda i: i.resolution.handled_by.value if i.resolution else None),
    ("resolution_resolved_by_name", lambda i: i.resolution.resolved_by.name if i.resolution else None),
    ("resolution_resolved_by_id", lambda i: i.resolution.resolved_by.aad_object_id if i.resolution else None),
    ("resolution_resolved_at", lambda i: utc_text(i.resolution.resolved_at) if i.resolution else None),
    ("resolution_save_as_runbook", lambda i: i.resolution.save_as_runbook if i.resolution else None),
    ("resolution_runbook_title", lambda i: i.resolution.runbook_title if i.resolution else None),
    ("confirmed_at", lambda i: utc_text(i.resolution.confirmation.at) if i.resolution and i.resolution.confirmation else None),
    ("confirmed_by_name", lambda i: _person(i.resolution.confirmation.by if i.resolution and i.resolution.confirmation else None)[0]),
    ("confirmed_by_id", lambda i: _person(i.resolution.confirmation.by if i.resolution and i.resolution.confirmation else None)[1]),
    ("closed_automatically", lambda i: i.resolution.confirmation.automatic if i.resolution and i.resolution.confirmation else None),
    ("duplicate_of", lambda i: i.duplicate_of),
    ("followers_names", lambda i: PEOPLE_SEPARATOR.join(p.name for p in i.followers)),
    ("followers_ids", lambda i: PEOPLE_SEPARATOR.join(p.aad_object_id or "" for p in i.followers)),
    ("source_url", lambda i: i.source_url),
    ("environment", lambda i: _value(i.environment)),
    ("documents", lambda i: i.documents),
    ("escalated_at", lambda i: utc_text(i.escalation.escalated_at) if i.escalation else None),
    ("escalated_by_name", lambda i: i.escalation.escalated_by.name if i.escalation else None),
    ("escalated_by_id", lambda i: i.escalation.escalated_by.aad_object_id if i.escalation else None),
    ("escalation_reason", lambda i: i.escalation.reason if i.escalation else None),
    ("escalated_to_name", lambda i: _person(i.escalation.to if i.escalation else None)[0]),
    ("escalated_to_id", lambda i: _person(i.escalation.to if i.escalation else None)[1]),
    # Agreed at a stand-up ("Needs a decision"): keep, defer or severity, by whom, when, at the stand-up of which date.
    ("decision", lambda i: i.decision.priority.value if i.decision else None),
    ("decision_by_name", lambda i: i.decision.by.name if i.decision else None),
    ("decision_by_id", lambda i: i.decision.by.aad_object_id if i.decision else None),
    ("decision_at", lambda i: utc_text(i.decision.at) if i.decision else None),
    ("decision_standup_on", lambda i: i.decision.standup_on.isoformat() if i.decision else None),
)

EVENT_HEADER = (
    "issue_id", "issue_number", "at", "actor_name", "actor_id", "verb", "from_value", "to_value", "reason",
)


RUNBOOK_HEADER = (
    "id", "title", "symptoms", "steps", "area", "category", "owner_name", "owner_id", "issue_numbers", "created_at", "updated_at",
)


def runbook_table(runbooks: Sequence[Runbook], numbers: Mapping[int, int]) -> Table:
    """The runbook library, one row a runbook; the issues it covers by their numbers in the war room."""
    return Table("runbooks.csv", "Runbooks", RUNBOOK_HEADER, [
        (r.id, r.title, r.symptoms, r.steps, _value(r.area), _value(r.category), r.owner.name, r.owner.aad_object_id,
         PEOPLE_SEPARATOR.join(str(numbers[i]) for i in r.issue_ids if i in numbers), utc_text(r.created_at), utc_text(r.updated_at))
        for r in runbooks
    ])


def _duration_rows(kind: str, stats: Sequence[DurationStats]) -> list[tuple[Cell, ...]]:
    return [(kind, int(s.severity), s.samples, hours(s.median), hours(s.mean)) for s in stats]


def _tally_rows(tallies: Sequence[Tally]) -> list[tuple[Cell, ...]]:
    return [(t.key, t.label, t.count) for t in tallies]


def export_tables(
    issues: list[Issue], events_by_issue: Mapping[int, Sequence[Event]], metrics: PhaseMetrics, runbooks: Sequence[Runbook] = ()
) -> list[Table]:
    """Every table of the export, in order (the CSV files and the workbook's sheets)."""
    ordered = sorted(issues, key=lambda issue: (issue.number, issue.id))
    numbers = {issue.id: issue.number for issue in issues}
    events = [
        (issue_id, numbers.get(issue_id), event)
        for issue_id, history in events_by_issue.items()
        for event in history
    ]
    events.sort(key=lambda item: (item[1] if item[1] is not None else -1, item[0], item[2].at))
    m = metrics
    return [
        Table("issues.csv", "Issues", tuple(name for name, _ in ISSUE_COLUMNS),
              [tuple(read(issue) for _, read in ISSUE_COLUMNS) for issue in ordered]),
        Table("events.csv", "Events", EVENT_HEADER, [
            (issue_id, number, utc_text(e.at), e.actor.name, e.actor.aad_object_id, e.verb, e.from_value, e.to_value, e.reason)
            for issue_id, number, e in events
        ]),
        runbook_table(runbooks, numbers),
        Table("metric_volume_by_day.csv", "Volume by day", ("day", "raised", "resolved"),
              [(d.day.isoformat(), d.incoming, d.resolved) for d in m.days]),
        Table("metric_by_severity.csv", "By severity", ("severity", "label", "issues"), _tally_rows(m.by_severity)),
        Table("metric_by_category.csv", "By category", ("category", "label", "issues"), _tally_rows(m.by_category)),
        Table("metric_by_area.csv", "By area", ("area", "label", "issues"), _tally_rows(m.by_area)),
        Table("metric_mtta_mttr.csv", "MTTA MTTR by severity",
              ("measure", "severity", "samples", "median_hours", "mean_hours"),
              _duration_rows("time_to_acknowledge", m.mtta) + _duration_rows("time_to_resolve", m.mttr)),
        Table("metric_sla_attainment.csv", "SLA attainment", ("measured_at", "met", "known", "percent"),
              [(utc_text(m.now), m.sla.hits, m.sla.total, _percent(m.sla))]),
        Table("metric_support_share_trend.csv", "Support share trend",
              ("day", "window_end", "by_support", "resolved", "percent"),
              [(d.day.isoformat(), utc_text(d.cut), d.support_share.hits, d.support_share.total, _percent(d.support_share))
               for d in m.days]),
        # The share of incoming issues escalated to the partner, the 7 days before each day's end.
        Table("metric_escalation_rate_trend.csv", "Escalation rate trend",
              ("day", "window_end", "escalated", "raised", "percent"),
              [(d.day.isoformat(), utc_text(d.cut), d.escalation_rate.hits, d.escalation_rate.total, _percent(d.escalation_rate))
               for d in m.days]),
        Table("metric_backlog_by_day.csv", "Backlog by day", ("day", "sev1", "sev2", "sev3", "sev4", "total"),
              [(d.day.isoformat(), *(d.open_by_severity[s] for s in sorted(d.open_by_severity)), d.open_total)
               for d in m.days]),
        Table("metric_runbook_coverage.csv", "Runbook coverage", ("recurring_resolved", "linked_to_runbook", "percent"),
              [(m.runbook_coverage.total, m.runbook_coverage.hits, _percent(m.runbook_coverage))]),
        Table("metric_recurring_candidates.csv", "Recurring candidates",
              ("area", "category", "issues", "issue_numbers", "keywords", "first_title"),
              [(g.area.value, g.category.value, g.size, PEOPLE_SEPARATOR.join(str(n) for n in g.issue_numbers),
                " ".join(g.keywords), g.title) for g in m.recurring_candidates]),
    ]


# ------------------------------------------------------------------------------------------------ writers


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(neutralise(value))


def _replace_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def add_to_zip(archive: zipfile.ZipFile, name: str, data: bytes, at: datetime) -> None:
    """An entry dated `at`, so that the same data gives the same zip."""
    entry = zipfile.ZipInfo(name, date_time=at.astimezone(UTC).timetuple()[:6])  # type: ignore[arg-type]
    entry.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(entry, data)


def add_csv_tables(archive: zipfile.ZipFile, tables: Sequence[Table], at: datetime, *, folder: str = "") -> None:
    for table in tables:
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(table.header)
        writer.writerows([_csv_text(value) for value in row] for row in table.rows)
        add_to_zip(archive, folder + table.csv_name, text.getvalue().encode("utf-8-sig"), at)


def export_csv(
    issues: list[Issue], events_by_issue: Mapping[int, Sequence[Event]], metrics: PhaseMetrics, out: str | Path,
    runbooks: Sequence[Runbook] = (),
) -> Path:
    """A .zip of CSV files, one per table; entries are dated `metrics.now` so the same data gives the same zip."""
    path = Path(out)
    if path.suffix.lower() != ".zip":
        raise ValueError(f"{path}: the CSV export is a .zip file")
    tables = export_tables(issues, events_by_issue, metrics, runbooks)

    def write(target: Path) -> None:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            add_csv_tables(archive, tables, metrics.now)

    return _replace_atomically(path, write)


def export_xlsx(
    issues: list[Issue], events_by_issue: Mapping[int, Sequence[Event]], metrics: PhaseMetrics, path: str | Path,
    runbooks: Sequence[Runbook] = (),
) -> Path:
    """One workbook, a sheet per table, header row bold and frozen."""
    target_path = Path(path)
    if target_path.suffix.lower() != ".xlsx":
        raise ValueError(f"{target_path}: the Excel export is an .xlsx file")
    workbook = xlsx_bytes(export_tables(issues, events_by_issue, metrics, runbooks))
    return _replace_atomically(target_path, lambda target: target.write_bytes(workbook))


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """A workbook with a sheet per table, header row bold and frozen."""
    from openpyxl import Workbook  # imported here: only the export needs it
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    bold = Font(bold=True)

    def cell(value: Cell) -> Any:
        if isinstance(value, str):
            return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
        return value

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.sheet_name)
        sheet.append(table.header)
        for header_cell in sheet[1]:
            header_cell.font = bold
        for row in table.rows:
            sheet.append([cell(value) for value in row])
        sheet.freeze_panes = "A2"
        for index, name in enumerate(table.header, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(10, min(len(name) + 2, 40))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
