"""The documentation a newcomer follows points at things that exist: every event type README.md
and docs/*.md name is one the services emit, every relative link reaches a file (and heading),
and the README links every page of docs/. Reads files only: no infrastructure."""
from __future__ import annotations

import re
from pathlib import Path

from eoffice.contracts import catalogue

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EVENT_TYPE = re.compile(r"\beoffice\.[a-z-]+\.[a-z-]+\.v\d+\b")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def headings(page: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings: lower case, punctuation dropped, spaces as
    dashes, a repeated one numbered."""
    anchors: set[str] = set()
    times: dict[str, int] = {}
    for title in re.findall(r"^#+\s+(.*?)\s*$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", title.replace("`", "").lower()).replace(" ", "-")
        times[slug] = times.get(slug, -1) + 1
        anchors.add(slug if times[slug] == 0 else f"{slug}-{times[slug]}")
    return anchors


def where(page: Path, text: str, offset: int) -> str:
    return f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, offset) + 1}"


def test_every_event_type_the_docs_name_is_one_the_services_emit():
    emitted = {event.event_type for _, event in catalogue.every_event()}
    unknown = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        unknown += [f"{where(page, text, m.start())}: {m.group()}" for m in EVENT_TYPE.finditer(text)
                    if m.group() not in emitted]
    assert not unknown, f"event types no contract defines (docs/events.md lists those that exist): {unknown}"


def test_every_relative_link_reaches_a_file_and_its_heading():
    broken = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in LINK.finditer(text):
            href = m.group(1)
            if re.match(r"[a-z][a-z0-9+.-]*:", href):
                continue  # https:, mailto: ...
            target, _, anchor = href.partition("#")
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{where(page, text, m.start())}: {href} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in headings(path):
                broken.append(f"{where(page, text, m.start())}: {href} (no such heading in {path.name})")
    assert not broken, broken


def test_the_readme_links_every_page_of_docs():
    linked = {(ROOT / m.group(1).partition("#")[0]).resolve()
              for m in LINK.finditer((ROOT / "README.md").read_text(encoding="utf-8"))}
    missing = [page.name for page in PAGES[1:] if page.resolve() not in linked]
    assert not missing, f"README.md does not link these pages of docs/: {missing}"
