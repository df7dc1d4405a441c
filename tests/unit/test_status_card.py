"""The `status` card: what it says, that it stays small, and that user text stays inert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.exit_criteria import evaluate_exit
from bot.domain.metrics import compute_metrics
from bot.domain.model import Area, Category, HandledBy, Person, Severity, Status
from bot.domain.war_room import WarRoomSettings
from cards.common import MAX_CARD_BYTES, card_bytes
from cards.status import duration_text, render_status
from tests.support.factories import make_issue
from tests.unit.test_metrics import LINKED, NOW, SETTINGS, timeline

CHART_URL = "https://bot.example.com/charts/1/phase.png?v=3"


def elements(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from elements(value)
    elif isinstance(node, list):
        for item in node:
            yield from elements(item)


def texts(card: dict[str, Any], kind: str) -> list[str]:
    return [element["text"] for element in elements(card) if element["type"] == kind]


def status_card(*, chart_url: str | None = CHART_URL, war_room_name: str = "Contoso D365 go-live") -> dict[str, Any]:
    issues = timeline()
    metrics = compute_metrics(issues, settings=SETTINGS, now=NOW, runbook_linked_issue_ids=LINKED)
    report = evaluate_exit(issues, SETTINGS, now=NOW)
    return render_status(metrics, report, chart_url=chart_url, war_room_name=war_room_name)


def test_structure_and_what_it_says() -> None:
    card = status_card()
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    blocks = texts(card, "TextBlock")
    assert "**Day 5 of 19** · planned end 2026-12-11" in blocks
    # One line per exit criterion, marked: one open Sev 1 and two resolved ones nobody confirmed yet fail; Sev 2
    # backlog 1 ≤ 5 passes; support 80% passes; SLA 50% fails.
    criteria = [text for text in blocks if text.startswith(("✅", "❌"))]
    assert criteria == [
        "❌ No open Sev 1: **3 (2 resolved, awaiting confirmation)** (target 0)",
        "✅ Sev 2 backlog under the cap: **1** (target ≤ 5)",
        # Incoming: #1–#6, #9, #10 raised in the window; #1 #3 #6 #9 resolved by support, #2 by the partner, the rest open.
        "✅ Support team handles the incoming volume: **80% of incoming (4 of 5) · 80% of resolutions (4 of 5)** "
        "(target ≥ 80% of incoming issues, last 7 days)",
        "❌ Sev 1/2 resolved within target: **50% (3 of 6)** (target ≥ 90%)",
    ]
    assert "**3** open — Sev 1: 1 · Sev 2: 1 · Sev 3: 1 · Sev 4: 0" in blocks
    facts = {fact["title"]: fact["value"] for element in elements(card) if element["type"] == "FactSet" for fact in element["facts"]}
    assert facts["Sev 1"] == "acknowledged in 15 min (n=3) · resolved in 11 h (n=2)"
    assert facts["Sev 4"] == "acknowledged in – (n=0) · resolved in – (n=0)"
    assert facts["Sev 1/2 within target"] == "50% (3 of 6)"
    assert facts["Support team share, last 7 days"] == "80% (4 of 5)"
    assert facts["Support share trend, last 5 days"] == "100% → 50% → 67% → 75% → 80%"
    assert facts["Incoming handled by support and floor walkers, last 7 days"] == "80% (4 of 5)"
    assert facts["Escalated to the partner, last 7 days"] == "0% (0 of 8)"
    assert facts["Escalation rate trend, last 5 days"] == "0% → 0% → 0% → 0% → 0%"
    assert "Resolved by floor walkers" not in blocks
    assert facts["Runbook coverage of recurring issues"] == "40% (2 of 5)"
    assert facts["Raised / resolved, whole phase"] == "10 / 5 · deferred 1 · duplicates 1"
    assert facts["Raised / resolved today"] == "2 / 1"


def test_the_chart_is_shown_only_with_a_url() -> None:
    images = [e for e in elements(status_card()) if e["type"] == "Image"]
    assert len(images) == 1 and images[0]["url"] == CHART_URL and images[0]["altText"]
    assert not [e for e in elements(status_card(chart_url=None)) if e["type"] == "Image"]


def test_the_war_room_name_is_user_text() -> None:
    card = status_card(war_room_name="[click](https://evil.example) <at>CEO</at>")
    assert "[click](https://evil.example) <at>CEO</at>" in texts(card, "TextRun")
    assert not [text for text in texts(card, "TextBlock") if "evil" in text]


def test_no_empty_text_and_small_with_400_issues() -> None:
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    issues = [
        make_issue(
            id=n, number=n, title=("ü😀 long title " * 10)[:120], description="x" * 8000, severity=Severity(n % 4 + 1),
            category=list(Category)[n % 9], area=list(Area)[n % 15], created_at=start + timedelta(hours=2 * n),
            updated_at=start + timedelta(hours=2 * n), status=Status.NEW if n % 2 else Status.DEFERRED,
        )
        for n in range(1, 401)
    ]
    settings = SETTINGS.model_copy(update={"starts_on": start.date(), "ends_on": start.date() + timedelta(days=60)})
    now = start + timedelta(days=40)
    metrics = compute_metrics(issues, settings=settings, now=now, runbook_linked_issue_ids=set())
    assert len(metrics.days) == 41
    card = render_status(metrics, evaluate_exit(issues, settings, now=now), chart_url=CHART_URL, war_room_name="ü" * 300)
    assert card_bytes(card) < MAX_CARD_BYTES
    for card_ in (card, status_card(chart_url=None)):
        for element in elements(card_):
            if element["type"] in ("TextBlock", "TextRun"):
                assert element["text"].strip(), element
            if element["type"] == "FactSet":
                assert all(fact["title"].strip() and fact["value"].strip() for fact in element["facts"])


def test_an_empty_phase_has_a_card_too() -> None:
    settings = WarRoomSettings()
    metrics = compute_metrics([], settings=settings, now=NOW, runbook_linked_issue_ids=set())
    card = render_status(metrics, evaluate_exit([], settings, now=NOW), chart_url=None, war_room_name="New room")
    blocks = texts(card, "TextBlock")
    assert "The phase has not started yet." in blocks
    assert all(text.strip() for text in blocks)
    facts = {fact["title"]: fact["value"] for e in elements(card) if e["type"] == "FactSet" for fact in e["facts"]}
    assert facts["Support share trend, last 7 days"] == "no days yet"
    assert facts["Escalation rate trend, last 7 days"] == "no days yet"
    assert "Raised / resolved today" not in facts


def test_durations_read_naturally() -> None:
    assert duration_text(None) == "–"
    assert duration_text(timedelta(seconds=59)) == "0 min"
    assert duration_text(timedelta(minutes=45)) == "45 min"
    assert duration_text(timedelta(hours=3, minutes=10)) == "3 h 10 min"
    assert duration_text(timedelta(hours=11)) == "11 h"
    assert duration_text(timedelta(days=2, hours=4, minutes=59)) == "2 d 4 h"
    assert duration_text(timedelta(days=3)) == "3 d"


def test_the_issues_floor_walkers_resolved_are_listed_by_name_with_user_text_kept_literal() -> None:
    mallory = Person(aad_object_id="aad-m", name="**Mallory** <at>CEO</at>")
    ana = Person(aad_object_id="aad-ana", name="Ana Ruiz")
    by_floor_walker = {1: ana, 3: mallory, 6: ana}
    issues = []
    for issue in timeline():
        if issue.number in by_floor_walker and issue.resolution:
            resolution = issue.resolution.model_copy(update={"handled_by": HandledBy.FLOOR_WALKER, "resolved_by": by_floor_walker[issue.number]})
            issue = issue.model_copy(update={"resolution": resolution})
        issues.append(issue)
    metrics = compute_metrics(issues, settings=SETTINGS, now=NOW, runbook_linked_issue_ids=LINKED)
    card = render_status(metrics, evaluate_exit(issues, SETTINGS, now=NOW), chart_url=None, war_room_name="Contoso",
                         issues=tuple(issues), tenant_id="tenant-1", team_name="Contoso")

    assert "Resolved by floor walkers" in texts(card, "TextBlock")
    lines = ["".join(run["text"] for run in element["inlines"]) for element in elements(card) if element["type"] == "RichTextBlock"]
    assert "Ana Ruiz: #1, #6 (2)" in lines
    assert "**Mallory** <at>CEO</at>: #3 (1)" in lines
    assert "entities" not in card["msteams"]  # named, not mentioned
    # Each number opens its issue's card (Microsoft's documented message link).
    [six] = [run for element in elements(card) if element["type"] == "RichTextBlock" for run in element["inlines"] if run["text"] == "#6"]
    url = six["selectAction"]["url"]
    assert url.startswith("https://teams.microsoft.com/l/message/19%3Ageneral%40thread.tacv2/card-100?tenantId=tenant-1&parentMessageId=100")
    assert "teamName=Contoso" in url
