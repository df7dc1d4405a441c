"""The layering, checked on the source: which package may import which (docs/teams-platform.md, README "Where code goes").

Every import counts, at module level or inside a function, so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SDK = ("botbuilder", "botframework")
FRAMEWORKS = ("sqlalchemy", "aiohttp", *SDK)
# Measuring is the edges' business (bot/observability, wired in app.py); the rules and use cases stay pure.
OBSERVABILITY = ("bot.observability", "prometheus_client")

# (package folder, the imports it must never make)
CONTRACTS = [
    ("bot/domain", ("bot.services", "bot.chat", "bot.scheduler", "bot.teams", "storage", "cards", *FRAMEWORKS, *OBSERVABILITY)),
    ("cards", ("bot.services", "bot.chat", "bot.scheduler", "bot.teams", "storage", *FRAMEWORKS, *OBSERVABILITY)),
    # Use cases see storage only through bot/domain/ports.py, and answer with results, never cards or messages to send.
    ("bot/services", ("storage", "cards", "bot.chat", "bot.scheduler", "bot.teams", *FRAMEWORKS, *OBSERVABILITY)),
    # What the bot answers: a handler parses, calls a use case and renders; storage and the SDK are someone else's.
    ("bot/chat", ("storage", "bot.teams", "bot.scheduler", *FRAMEWORKS)),
    # Metrics and log context know the domain's vocabulary, never storage, the SDK or the web framework.
    ("bot/observability", ("storage", "cards", "bot.chat", "bot.scheduler", "bot.teams", *FRAMEWORKS)),
    # Storage answers to the composition root and the command line, never the other way round.
    ("storage", ("app", "bot.cli")),
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _is_within(module: str, forbidden: str) -> bool:
    return module == forbidden or module.startswith(forbidden + ".")


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module in sorted(imported_modules(path)):
            if any(_is_within(module, name) for name in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


@pytest.mark.parametrize(("folder", "forbidden"), CONTRACTS, ids=[folder for folder, _ in CONTRACTS])
def test_package_keeps_its_contract(folder: str, forbidden: tuple[str, ...]) -> None:
    assert (ROOT / folder).is_dir()
    assert violations(folder, forbidden) == []


def test_only_bot_teams_imports_the_bot_framework_sdk() -> None:
    product = [path for top in ("app.py", "bot", "cards", "storage", "manifest", "migrations") for path in
               ([ROOT / top] if top.endswith(".py") else sorted((ROOT / top).rglob("*.py")))]
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in product
        if not path.is_relative_to(ROOT / "bot" / "teams")
        for module in sorted(imported_modules(path))
        if any(_is_within(module, name) for name in SDK)
    ]
    assert offenders == []


def test_the_checker_sees_lazy_and_dotted_imports(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("import os\n\ndef f():\n    from botbuilder.core import TurnContext\n    import sqlalchemy.orm\n")
    assert imported_modules(source) == {"os", "botbuilder.core", "sqlalchemy.orm"}
    assert _is_within("botbuilder.core", "botbuilder") and not _is_within("botbuilderx", "botbuilder")
