"""Statements built once (a module's constant, named in capitals) are compiled once: SQLAlchemy
finds them in its cache only if they have a cache key. One without compiles again on every
execution, which cost notify 5% of its time on each movement before it was found."""
from __future__ import annotations

import importlib
from pathlib import Path

from sqlalchemy.sql import ClauseElement, Executable

ROOT = Path(__file__).resolve().parents[2]


def built_once() -> dict[str, ClauseElement]:
    found = {}
    for path in sorted([*ROOT.glob("services/**/*.py"), *ROOT.glob("eoffice/**/*.py")]):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts or "plugin" in parts:
            continue
        module = importlib.import_module(".".join(parts))
        for name, value in vars(module).items():
            if isinstance(value, ClauseElement) and isinstance(value, Executable) and name.lstrip("_").isupper():
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_statement_built_once_has_a_cache_key():
    statements = built_once()
    assert "services.notify.repository._ADD_NOTIFICATION" in statements, "the scan finds the statements"
    assert [name for name, statement in statements.items() if statement._generate_cache_key() is None] == []
