"""The CSV and Excel exports: every field, read back as written, and no formula smuggled in from Teams."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.domain.metrics import PhaseMetrics, compute_metrics
from bot.domain.model import Area, Escalation, HandledBy, Issue, Person, ProgressNote, Resolution, ResolutionType, Runbook
from bot.domain.events import Event
from bot.export import FORMULA_TRIGGERS, ISSUE_COLUMNS, export_csv, export_tables, export_xlsx
from tests.support.factories import OMAR, PRIYA
from tests.unit.test_metrics import LINKED, NOW, SETTINGS, local, timeline

EVIL = Person(aad_object_id="aad-evil", name="-2+3 Mallory")
NO_ID = Person(aad_object_id=None, name="Guest User")
HOSTILE_TITLE = '=HYPERLINK("https://evil.example/x","click me")'


def hostile_issue() -> Issue:
    """Every optional field filled in, with text that would run as a formula in a spreadsheet."""
    return timeline()[0].model_copy(
        update={
            "id": 99,
            "number": 99,
            "title": HOSTILE_TITLE,
            "description": "+cmd|' /C calc'!A0\nsecond line, with \"quotes\" and ü",
            "company": "@SUM(1)",
            "reporter": EVIL,
            "assignee": OMAR,
            "latest_update": ProgressNote(text="\tTab first", author=NO_ID, at=local(23, 10)),
            "resolution": Resolution(
                type=ResolutionType.WORKAROUND_GIVEN, notes="\rCR first", handled_by=HandledBy.PARTNER, resolved_by=OMAR,
                resolved_at=local(23, 11), save_as_runbook=True, runbook_title="-Runbook",
            ),
            "duplicate_of": None,
            "followers": (PRIYA, NO_ID),
            "source_url": "https://teams.microsoft.com/l/message/19:abc/1",
            "affected_users": 12,
            # Escalated by someone without an id to the on-call person, an hour after it was raised.
            "escalation": Escalation(escalated_by=NO_ID, escalated_at=local(23, 10, 30), reason="=needs code", to=OMAR),
        }
    )


def inputs() -> tuple[list[Issue], dict[int, list[Event]]]:
    issues = [*timeline(), hostile_issue()]
    events = {
        1: [
            Event(verb="created", actor=PRIYA, at=local(23, 9)),
            Event(verb="ack", actor=OMAR, at=local(23, 9, 15), from_value="new", to_value="acknowledged"),
        ],
        99: [Event(verb="update", actor=EVIL, at=local(23, 10), reason="=1+1")],
        4: [Event(verb="severity", actor=NO_ID, at=local(25, 3), from_value="3", to_value="2", reason="bigger than we thought")],
    }
    return issues, events


def metrics_for(issues: list[Issue]) -> PhaseMetrics:
    return compute_metrics(issues, settings=SETTINGS, now=NOW, runbook_linked_issue_ids=LINKED)


def utc(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


def unquote(text: str) -> str:
    """What the export's formula guard did, undone: the reader's view of the original text."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS) else text


def read_zip(path: Path) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")))
            for name in archive.namelist()
        }


def test_every_issue_field_has_a_column() -> None:
    columns = [name for name, _ in ISSUE_COLUMNS]
    for field in Issue.model_fields:
        assert any(column == field or column.startswith(field + "_") for column in columns), field
    assert len(set(columns)) == len(columns)


def test_csv_zip_round_trip(tmp_path: Path) -> None:
    issues, events = inputs()
    metrics = metrics_for(issues)
    out = export_csv(issues, events, metrics, tmp_path / "export.zip")
    files = read_zip(out)
    assert set(files) == {
        "issues.csv", "events.csv", "runbooks.csv", "metric_volume_by_day.csv", "metric_by_severity.csv", "metric_by_category.csv",
        "metric_by_area.csv", "metric_mtta_mttr.csv", "metric_sla_attainment.csv", "metric_support_share_trend.csv",
        "metric_escalation_rate_trend.csv", "metric_backlog_by_day.csv", "metric_runbook_coverage.csv", "metric_recurring_candidates.csv",
    }

    rows = {int(row["number"]): row for row in files["issues.csv"]}
    assert sorted(rows) == sorted(issue.number for issue in issues)
    for issue in issues:
        row = rows[issue.number]
        assert unquote(row["title"]) == issue.title
        assert unquote(row["description"]) == issue.description
        assert int(row["severity"]) == issue.severity
        assert row["status"] == issue.status.value
        assert row["category"] == (issue.category.value if issue.category else "")
        assert row["area"] == (issue.area.value if issue.area else "")
        assert utc(row["created_at"]) == issue.created_at
        assert utc(row["updated_at"]) == issue.updated_at
        assert (utc(row["resolve_by"]) if row["resolve_by"] else None) == issue.resolve_by
        assert (utc(row["acknowledged_at"]) if row["acknowledged_at"] else None) == issue.acknowledged_at
        assert (unquote(row["reporter_name"]), row["reporter_id"]) == (issue.reporter.name, issue.reporter.aad_object_id)
        assert row["conversation_id"] == issue.conversation_id and int(row["version"]) == issue.version
        if issue.resolution:
            assert utc(row["resolution_resolved_at"]) == issue.resolution.resolved_at
            assert row["resolution_handled_by"] == issue.resolution.handled_by.value
            assert row["resolution_resolved_by_id"] == issue.resolution.resolved_by.aad_object_id
        else:
            assert row["resolution_type"] == row["resolution_resolved_at"] == ""

    full = rows[99]
    assert full["company"] == "'@SUM(1)"
    assert (full["assignee_name"], full["assignee_id"]) == ("Omar Haddad", "aad-omar")
    assert (full["acknowledged_by_name"], full["acknowledged_by_id"]) == ("Omar Haddad", "aad-omar")
    assert full["latest_update_text"] == "'\tTab first"
    assert (full["latest_update_author_name"], full["latest_update_author_id"]) == ("Guest User", "")
    assert utc(full["latest_update_at"]) == local(23, 10)
    assert full["resolution_type"] == "workaround_given" and full["resolution_notes"] == "'\rCR first"
    assert full["resolution_save_as_runbook"] == "true" and full["resolution_runbook_title"] == "'-Runbook"
    assert (full["followers_names"], full["followers_ids"]) == ("Priya Shah; Guest User", "aad-priya; ")
    assert full["source_url"] == "https://teams.microsoft.com/l/message/19:abc/1" and full["affected_users"] == "12"
    assert rows[8]["duplicate_of"] == "5"
    assert (full["escalated_by_name"], full["escalated_by_id"], full["escalation_reason"]) == ("Guest User", "", "'=needs code")
    assert (utc(full["escalated_at"]), full["escalated_to_name"], full["escalated_to_id"]) == (local(23, 10, 30), "Omar Haddad", "aad-omar")
    assert rows[1]["escalated_at"] == rows[1]["escalated_to_name"] == ""

    expected_events = sorted(
        ((number, event) for number, history in events.items() for event in history), key=lambda item: (item[0], item[1].at)
    )
    assert [
        (int(r["issue_number"]), utc(r["at"]), r["verb"], unquote(r["actor_name"]), r["actor_id"], r["from_value"],
         r["to_value"], unquote(r["reason"]))
        for r in files["events.csv"]
    ] == [
        (n, e.at, e.verb, e.actor.name, e.actor.aad_object_id or "", e.from_value or "", e.to_value or "", e.reason or "")
        for n, e in expected_events
    ]

    assert [(r["day"], int(r["raised"]), int(r["resolved"])) for r in files["metric_volume_by_day.csv"]] == [
        (d.day.isoformat(), d.incoming, d.resolved) for d in metrics.days
    ]
    assert [[int(r[k]) for k in ("sev1", "sev2", "sev3", "sev4", "total")] for r in files["metric_backlog_by_day.csv"]] == [
        [1, 0, 0, 0, 1], [0, 1, 0, 0, 1], [0, 1, 2, 0, 3], [0, 1, 2, 0, 3], [1, 1, 1, 0, 3],
    ]
    sla = files["metric_sla_attainment.csv"]
    # Met: #1 #3 #9 and #99 (a Sev 1 resolved in time); missed: #2 #4 #10.
    assert [(r["met"], r["known"], r["percent"]) for r in sla] == [("4", "7", "57.1")]
    mtta_sev1 = next(r for r in files["metric_mtta_mttr.csv"] if r["measure"] == "time_to_acknowledge" and r["severity"] == "1")
    assert mtta_sev1["median_hours"] == "0.25" and mtta_sev1["samples"] == "4"  # 10, 15, 15, 45 min
    shares = files["metric_support_share_trend.csv"]
    assert [(r["by_support"], r["resolved"]) for r in shares][-1] == ("4", "6")
    escalations = files["metric_escalation_rate_trend.csv"]
    # Raised in the 7 days before NOW and neither duplicates nor deferred: #1–#6, #9, #10 and #99; #99 escalated.
    assert [(r["escalated"], r["raised"], r["percent"]) for r in escalations][-1] == ("1", "9", "11.1")
    assert [r["day"] for r in escalations] == [d.day.isoformat() for d in metrics.days]
    assert files["metric_runbook_coverage.csv"] == [{"recurring_resolved": "6", "linked_to_runbook": "2", "percent": "33.3"}]
    assert {r["category"]: int(r["issues"]) for r in files["metric_by_category.csv"]}["configuration"] == 8

    # Every table comes back with its header and as many rows as were written.
    with zipfile.ZipFile(out) as archive:
        for table in export_tables(issues, events, metrics):
            header = next(csv.reader(io.StringIO(archive.read(table.csv_name).decode("utf-8-sig"))))
            assert tuple(header) == table.header
            assert len(files[table.csv_name]) == len(table.rows)


def test_no_csv_field_can_start_a_formula(tmp_path: Path) -> None:
    issues, events = inputs()
    files = read_zip(export_csv(issues, events, metrics_for(issues), tmp_path / "export.zip"))
    fields = [value for rows in files.values() for row in rows for value in row.values()]
    assert "'" + HOSTILE_TITLE in fields and "'=1+1" in fields
    assert not [value for value in fields if value.startswith(FORMULA_TRIGGERS)]


def test_csv_is_a_zip_and_the_same_data_gives_the_same_bytes(tmp_path: Path) -> None:
    issues, events = inputs()
    metrics = metrics_for(issues)
    first = export_csv(issues, events, metrics, tmp_path / "a.zip").read_bytes()
    second = export_csv(issues, events, metrics, tmp_path / "b.zip").read_bytes()
    assert first == second
    with pytest.raises(ValueError, match=r"\.zip"):
        export_csv(issues, events, metrics, tmp_path / "export.csv")
    assert not (tmp_path / "export.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "b.zip"]  # no temporary files left


def test_xlsx_sheets_headers_cells_and_no_formulas(tmp_path: Path) -> None:
    issues, events = inputs()
    # A control character Excel cannot store, in front of a formula: removed, and the formula still neutralised.
    issues.append(hostile_issue().model_copy(update={"id": 100, "number": 100, "title": "\x01=2+2"}))
    metrics = metrics_for(issues)
    path = export_xlsx(issues, events, metrics, tmp_path / "export.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames == [
        "Issues", "Events", "Runbooks", "Volume by day", "By severity", "By category", "By area", "MTTA MTTR by severity",
        "SLA attainment", "Support share trend", "Escalation rate trend", "Backlog by day", "Runbook coverage", "Recurring candidates",
    ]
    sheet = workbook["Issues"]
    header = [cell.value for cell in sheet[1]]
    assert header == [name for name, _ in ISSUE_COLUMNS]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    by_number = {row[header.index("number")].value: row for row in sheet.iter_rows(min_row=2)}
    assert len(by_number) == len(issues)
    first = by_number[1]
    assert first[header.index("severity")].value == 1  # numbers stay numbers
    assert first[header.index("created_at")].value == "2026-11-23T05:00:00Z"
    assert by_number[99][header.index("title")].value == "'" + HOSTILE_TITLE
    assert by_number[100][header.index("title")].value == "'=2+2"
    assert by_number[99][header.index("company")].value == "'@SUM(1)"

    volume = workbook["Volume by day"]
    assert [c.value for c in volume[1]] == ["day", "raised", "resolved"]
    assert [c.value for c in volume[2]] == ["2026-11-23", 4, 3]  # #1 #2 #99 #100 raised; #1 #99 #100 resolved
    assert [c.value for c in workbook["Runbook coverage"][2]] == [7, 2, 28.6]
    events_sheet = workbook["Events"]
    assert events_sheet.max_row == 1 + sum(len(history) for history in events.values())

    for worksheet in workbook.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (worksheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_TRIGGERS), (worksheet.title, cell.coordinate)
    with pytest.raises(ValueError, match=r"\.xlsx"):
        export_xlsx(issues, events, metrics, tmp_path / "export.xls")


def test_an_empty_phase_exports_headers_only(tmp_path: Path) -> None:
    metrics = compute_metrics([], settings=SETTINGS, now=datetime(2026, 11, 20, tzinfo=UTC), runbook_linked_issue_ids=set())
    files = read_zip(export_csv([], {}, metrics, tmp_path / "empty.zip"))
    assert files["issues.csv"] == [] and files["metric_volume_by_day.csv"] == []
    assert len(files["metric_by_severity.csv"]) == 4
    workbook = load_workbook(export_xlsx([], {}, metrics, tmp_path / "empty.xlsx"))
    assert workbook["Issues"].max_row == 1
    assert workbook["Issues"]["A1"].value == "id"


def test_runbooks_are_exported_with_the_numbers_of_their_issues(tmp_path: Path) -> None:
    issues, events = inputs()
    metrics = metrics_for(issues)
    covered = issues[0]
    runbook = Runbook(
        id=4, war_room_id=covered.war_room_id, title="=cmd|' /C calc'!A0", symptoms="Invoices stuck", steps="1. Open AP\n2. Repost",
        area=Area.ACCOUNTS_PAYABLE, category=None, owner=Person(aad_object_id="aad-omar", name="Omar Haddad"),
        issue_ids=(covered.id, 999_999), created_at=metrics.now, updated_at=metrics.now,
    )
    [row] = read_zip(export_csv(issues, events, metrics, tmp_path / "export.zip", runbooks=[runbook]))["runbooks.csv"]
    assert row["title"] == "'=cmd|' /C calc'!A0"  # formula injection neutralised
    assert (row["steps"], row["area"], row["category"], row["owner_name"]) == ("1. Open AP\n2. Repost", "accounts_payable", "", "Omar Haddad")
    assert row["issue_numbers"] == str(covered.number)  # an issue of another war room is not named
    workbook = load_workbook(export_xlsx(issues, events, metrics, tmp_path / "export.xlsx", runbooks=[runbook]))
    assert [cell.value for cell in workbook["Runbooks"][2]][:2] == [4, "'=cmd|' /C calc'!A0"]
