"""The boundaries between the parts, with no infrastructure: services share contracts, not
code; the events catalogue external portals read says what the code emits."""
from __future__ import annotations

import ast
from pathlib import Path

from eoffice.contracts import catalogue

ROOT = Path(__file__).resolve().parents[2]

# Imports the rule allows for now: {(file, module): why}; delete an entry when its import goes.
# None today (the gateway's use of dak's scans.py went when the intake moved to eoffice/intake).
TEMPORARY: dict[tuple[str, str], str] = {}


def imports(path: Path) -> set[str]:
    """Returns every module `path` imports, relative imports resolved; `from a import b` counts
    as a.b (so that `from services import dak` is seen as services.dak)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def breaches(folder: str, allowed) -> list[tuple[str, str]]:
    """Returns (file, module) for each import of ours (services.*, tests.*, eoffice.*) under
    `folder` that `allowed(file, module)` refuses."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        name = str(path.relative_to(ROOT))
        for module in sorted(imports(path)):
            ours = any(within(module, top) for top in ("services", "tests", "eoffice", "deploy"))
            if ours and not allowed(name, module) and not any(
                    name == file and within(module, temporary) for file, temporary in TEMPORARY):
                found.append((name, module))
    return found


def test_a_service_imports_only_the_shared_package_and_itself():
    def allowed(name: str, module: str) -> bool:
        service = Path(name).parts[1] if len(Path(name).parts) > 2 else None
        return within(module, "eoffice") or service is not None and within(module, f"services.{service}")
    found = breaches("services", allowed)
    assert found == [], ("services share contracts, not code: put what crosses a boundary in eoffice/contracts "
                         f"(or what both need in eoffice/); these imports break the rule: {found}")


def test_the_shared_package_imports_no_service_and_no_test():
    found = breaches("eoffice", lambda name, module: within(module, "eoffice"))
    assert found == [], f"eoffice/ is shared by every service and imports none of them: {found}"


def test_benchmarks_import_nothing_from_the_tests():
    found = breaches("deploy/bench", lambda name, module: not within(module, "tests"))
    assert found == [], f"move what deploy/bench needs from tests/ into a shared place (eoffice/demo.py): {found}"


def test_every_temporary_allowance_is_still_needed():
    stale = [key for key in TEMPORARY if not any(within(m, key[1]) for m in imports(ROOT / key[0]))]
    assert stale == [], f"these imports are gone: delete them from TEMPORARY in {Path(__file__).name}: {stale}"


def test_event_types_are_versioned_unique_and_described():
    types = [event.event_type for _, event in catalogue.every_event()]
    assert len(types) == len(set(types)), f"an event type is defined twice: {sorted(types)}"
    for _, event in catalogue.every_event():
        assert event.event_type.startswith("eoffice.") and event.event_type.rsplit(".", 1)[1].startswith("v"), \
            f"{event.__name__}: an event type reads eoffice.<what>.<happened>.v<N>"
        assert event.__doc__, f"{event.__name__} needs a docstring: it is the event's description in docs/events.md"


def test_the_events_catalogue_is_current():
    written = catalogue.PATH.read_text(encoding="utf-8") if catalogue.PATH.exists() else ""
    assert written == catalogue.render(), (f"docs/events.md is not what the contracts say: run "
                                           f"`{catalogue.COMMAND}` and commit the result")
