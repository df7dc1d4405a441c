"""The deployment guide stays true to the code: every metric and every doctor check is documented, and linked."""

from __future__ import annotations

from pathlib import Path

from bot.observability.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_the_readme_links_to_the_deploy_guide() -> None:
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_metric_is_documented_by_the_name_prometheus_shows() -> None:
    names = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in Metrics().registry.collect()
    }
    assert len(names) > 20
    assert sorted(name for name in names if f"`{name}`" not in GUIDE) == []


def test_every_doctor_check_is_documented() -> None:
    checks = ["configuration", "database, schema", "credentials", "openid", "public URL", "manifest", "outbox"]
    assert all(f"| {check} |" in GUIDE for check in checks)
