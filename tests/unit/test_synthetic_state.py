"""The whole-state benchmark's synthetic state (eoffice/synthetic_state.py): the CSV files
the organisation importer takes, the same for the same seed, every key unique, every reference
to a row before it, and as many people as asked for."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from eoffice.tools import synthetic_state
from eoffice.tools.workload import Organisation, Workload
from services.directory import importer


def rows(folder, name: str) -> list[dict]:
    with open(folder / f"{name}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    folder = tmp_path_factory.mktemp("state")
    return folder, synthetic_state.write(folder, districts=3, users=3000, seed=7)


def test_the_importer_reads_every_row_and_refuses_none(state):
    folder, counts = state
    texts = {name: (folder / f"{name}.csv").read_text(encoding="utf-8") for name in importer.FILES}
    assert importer.check(texts) == {"offices": counts.offices, "holidays": len(synthetic_state.HOLIDAYS),
                                     "posts": 3000, "users": 3000, "postings": 3000}
    report = importer.Report()
    for name in importer.FILES:
        valid, total = importer.read_rows(name, texts[name], report)
        assert len(valid) == total
    assert report.rejected == []


def test_keys_are_unique_and_references_come_first(state):
    folder, counts = state
    offices, posts, users, postings = (rows(folder, n) for n in ("offices", "posts", "users", "postings"))
    assert len(offices) == counts.offices and len(posts) == len(users) == len(postings) == counts.users == 3000
    for table, key in ((offices, "code"), (posts, "code"), (users, "employee_id"), (users, "email"),
                       (users, "mobile"), (postings, "post_code")):
        assert len({r[key] for r in table}) == len(table), key
    seen = set()
    for office in offices:
        assert not office["parent_code"] or office["parent_code"] in seen
        seen.add(office["code"])
    seen_posts = set()
    for post in posts:
        assert post["office_code"] in seen and (not post["supervisor_code"] or post["supervisor_code"] in seen_posts)
        seen_posts.add(post["code"])
    assert {p["employee_id"] for p in postings} == {u["employee_id"] for u in users}
    assert sum(o["level"] == "district" for o in offices) == 3
    assert sum("system_admin" in p["roles"] for p in posts) == 1


def test_the_same_seed_writes_the_same_files_and_another_seed_other_people(state, tmp_path):
    folder, _ = state
    synthetic_state.write(tmp_path / "again", districts=3, users=3000, seed=7)
    synthetic_state.write(tmp_path / "other", districts=3, users=3000, seed=8)
    for name in importer.FILES:
        assert (tmp_path / "again" / f"{name}.csv").read_bytes() == (folder / f"{name}.csv").read_bytes()
    assert rows(tmp_path / "other", "users") != rows(folder, "users")
    with pytest.raises(ValueError):
        synthetic_state.write(tmp_path / "small", districts=3, users=100)


def test_the_workload_finds_every_districts_clerks_and_dealing_hands(state):
    organisation = Organisation.from_folder(state[0])
    units = {d.unit for d in organisation.desks.values()}
    assert {"D01", "D02", "D03", "S-REV"} <= units
    assert organisation.system_admin == "SYSADM-ST"
    for unit in ("D01", "D02", "D03"):
        here = [d for d in organisation.desks.values() if d.unit == unit]
        assert any("dak_clerk" in d.roles for d in here)
        assert any("section_staff" in d.roles and "officer" in organisation.desks[d.supervisor].roles for d in here)


def test_clerks_mark_letters_only_within_their_jurisdiction():
    """A send beyond the sender's jurisdiction (the nearest department, head-of-department office or
    district) is refused as an unknown post, so the workload's clerks mark letters to officers of
    their own: the Board of Revenue's clerks to the Board's officers, not the Revenue
    Department's (the long fault run found 46 such sends refused)."""
    organisation = Organisation.from_folder(Path(__file__).resolve().parents[2] / "services" / "directory" / "demo")
    desks = organisation.desks
    assert desks["DAKCLK1-BOR"].unit == "REV-BOR" and desks["SO(EST)-REV"].unit == "REV"
    assert desks["SO(EST)-GAD"].unit == "GAD" and desks["DAKCLK1-LKO"].unit == "DIST-LKO"
    work = Workload(["http://127.0.0.1:1"], organisation, password="unused", people=300)
    assert {desks[c].unit for c in work.clerks} >= {"REV-BOR", "REV", "DIST-LKO"}
    for clerk in work.clerks:
        officers = work.officers_of[desks[clerk].unit]
        assert officers and all(desks[o].unit == desks[clerk].unit for o in officers), clerk
