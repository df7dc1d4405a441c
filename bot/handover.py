"""The hand-over pack for steady-state support: one ZIP with everything the war room knows.

    README.md               what is inside, and as of when
    issue-log.xlsx          the issue log, its history, the runbooks and the figures (`hypercare export --format xlsx`)
    issue-log/*.csv         the same tables as CSV (`hypercare export --format csv`)
    runbooks.md             the runbook library, to read or paste into a wiki
    runbooks.xlsx           the runbook library, one row a runbook
    deferred-backlog.csv    the deferred Sev 3/4 issues, every field, for the backlog tool

Built in memory (a war room's record is megabytes at most), every entry dated `metrics.now`. Cells are
neutralised as in the export (bot/export.py).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence

from bot.domain.celebration import hand_over_backlog
from bot.domain.model import Issue, Runbook
from bot.export import ISSUE_COLUMNS, Table, add_csv_tables, add_to_zip, export_tables, runbook_table, xlsx_bytes
from bot.services.handover import HandoverContents

# Markdown that would turn user text into links, images, HTML or headings: shown as typed instead.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|!])")


def _md(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def runbooks_markdown(runbooks: Sequence[Runbook], numbers: dict[int, int], *, war_room_name: str, as_of: str) -> str:
    lines = [f"# Runbook library · {_md(war_room_name)}", "", f"{len(runbooks)} runbooks, as of {as_of} (UTC).", ""]
    for runbook in runbooks:
        covered = ", ".join(f"#{numbers[i]}" for i in runbook.issue_ids if i in numbers) or "none"
        details = [
            f"Area: {runbook.area.label if runbook.area else 'not set'}",
            f"Category: {runbook.category.label if runbook.category else 'not set'}",
            f"Owner: {_md(runbook.owner.name)}",
            f"Issues: {covered}",
            f"Updated: {runbook.updated_at:%Y-%m-%d}",
        ]
        lines += [f"## R{runbook.id} · {_md(runbook.title)}", "", " · ".join(details), ""]
        if runbook.symptoms.strip():
            lines += ["### Symptoms", "", _md(runbook.symptoms.strip()), ""]
        lines += ["### Steps", "", _md(runbook.steps.strip()), ""]
    return "\n".join(lines)


def _readme(contents: HandoverContents, backlog: Sequence[Issue], as_of: str) -> str:
    m = contents.metrics
    return "\n".join([
        f"# Hand-over pack · {_md(contents.room.display_name)}",
        "",
        f"Everything the hypercare war room recorded, as of {as_of} (UTC), for the steady-state support team.",
        "",
        f"- `issue-log.xlsx`: the issue log ({m.raised_total} issues), their history, the runbooks and the phase's figures, one sheet each.",
        "- `issue-log/`: the same tables as CSV files (UTF-8).",
        f"- `runbooks.md` and `runbooks.xlsx`: the runbook library ({len(contents.runbooks)} runbooks).",
        f"- `deferred-backlog.csv`: the deferred Sev 3/4 issues handed over ({len(backlog)}), every field.",
        "",
        "Times are UTC (ISO 8601); durations in hours. Cells that a spreadsheet would run as a formula start with `'`.",
        "",
    ])


def handover_pack(contents: HandoverContents) -> bytes:
    """The ZIP, as bytes."""
    now = contents.metrics.now
    as_of = f"{now:%Y-%m-%d %H:%M}"
    issues = list(contents.issues)
    numbers = {issue.id: issue.number for issue in issues}
    tables = export_tables(issues, contents.events_by_issue, contents.metrics, contents.runbooks)
    backlog = hand_over_backlog(issues)
    backlog_table = Table(
        "deferred-backlog.csv", "Deferred backlog", tuple(name for name, _ in ISSUE_COLUMNS),
        [tuple(read(issue) for _, read in ISSUE_COLUMNS) for issue in backlog],
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        add_to_zip(archive, "README.md", _readme(contents, backlog, as_of).encode(), now)
        add_to_zip(archive, "issue-log.xlsx", xlsx_bytes(tables), now)
        add_csv_tables(archive, tables, now, folder="issue-log/")
        markdown = runbooks_markdown(contents.runbooks, numbers, war_room_name=contents.room.display_name, as_of=as_of)
        add_to_zip(archive, "runbooks.md", markdown.encode(), now)
        add_to_zip(archive, "runbooks.xlsx", xlsx_bytes([runbook_table(contents.runbooks, numbers)]), now)
        add_csv_tables(archive, [backlog_table], now)
    return buffer.getvalue()
