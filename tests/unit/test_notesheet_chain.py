"""The notesheet's hash chain (`services.files.notesheet`) on plain rows, and its check against
the locked records through a fake of our own object store: what `verify` reports when a note
is changed, removed or added behind the service's back."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.files.notesheet import (
    canonical,
    chain_problems,
    check,
    link,
    next_note,
    note_hash,
    record_name,
    signature_record_name,
)

FILE_ID = "0b9c7e0e-file"
T0 = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


class FakeRecords:
    """The part of `DocumentStore` the check reads: locked records by name and version."""

    def __init__(self):
        self.versions: dict[str, list[tuple[str, bytes]]] = {}

    def put(self, name: str, data: bytes) -> str:
        versions = self.versions.setdefault(name, [])
        versions.append((f"v{len(versions) + 1}", data))
        return versions[-1][0]

    def read(self, name: str, *, version_id: str | None = None, check: bool = True) -> bytes:
        return next(data for version, data in self.versions[name] if version == version_id)

    def latest_version(self, name: str, *, locked: bool = True) -> str | None:
        return self.versions[name][-1][0] if self.versions.get(name) else None

    def names(self, prefix: str, *, locked: bool = False) -> list[str]:
        return sorted(name for name in self.versions if name.startswith(prefix))


def notesheet(bodies: list[str], store: FakeRecords | None = None) -> tuple[dict, list[dict]]:
    """A file row and its green notes, each chained to the one before (as `append_green` does)."""
    file = {"id": FILE_ID, "file_number": "GAD/1/2026", "notes_count": 0, "notes_head": None}
    rows = []
    for n, body in enumerate(bodies):
        note = next_note(file, body=body, refs={"pages": [], "notes": []}, author_user="UP1", author_post="SO-GAD",
                         confirmed_at=T0 + timedelta(minutes=n))
        note["record_name"] = record_name(FILE_ID, note["seq"])
        note["record_version"] = store.put(note["record_name"], canonical(note)) if store else None
        rows.append(note)
        file = {**file, "notes_count": note["seq"], "notes_head": note["hash"]}
    return file, rows


def test_each_note_carries_the_hash_of_the_one_before():
    file, rows = notesheet(["प्रस्ताव प्रस्तुत है।", "Approved.", "Issue the order."])
    assert [n["seq"] for n in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] is None
    assert [n["prev_hash"] for n in rows[1:]] == [n["hash"] for n in rows[:-1]]
    assert file["notes_head"] == rows[-1]["hash"] and all(note_hash(n) == n["hash"] for n in rows)
    assert chain_problems(rows, notes_count=3, notes_head=file["notes_head"]) == []


def test_the_hash_covers_the_text_author_and_time():
    _, [note] = notesheet(["Approved."])
    for change in ({"body": "Not approved."}, {"author_post": "US-GAD"}, {"confirmed_at": T0 + timedelta(seconds=1)}):
        assert note_hash({**note, **change}) != note["hash"]
    # The same instant in another zone is the same note.
    assert note_hash({**note, "confirmed_at": T0.astimezone(timezone(timedelta(hours=5, minutes=30)))}) == note["hash"]


def test_a_note_edited_in_the_database_is_named():
    file, rows = notesheet(["One.", "Two.", "Three."])
    rows[1] = {**rows[1], "body": "Two, amended."}
    assert chain_problems(rows, notes_count=3, notes_head=file["notes_head"]) == [
        "note 2 was changed in the database: its content no longer matches its hash"]


def test_a_note_removed_from_the_middle_breaks_the_chain():
    file, rows = notesheet(["One.", "Two.", "Three."])
    problems = chain_problems([rows[0], rows[2]], notes_count=3, notes_head=file["notes_head"])
    assert "note 2 is missing from the database" in problems
    assert "note 3 does not follow the note before it (the chain is broken)" in problems
    assert any("the file records 3 notes" in p and "holds 2" in p for p in problems)


def test_the_last_note_removed_is_found_from_the_file_row():
    file, rows = notesheet(["One.", "Two."])
    assert chain_problems(rows[:1], notes_count=2, notes_head=file["notes_head"]) == [
        f"the file records 2 notes ending in {file['notes_head']}, the database holds 1: "
        "notes were deleted or added behind the service's back"]


def test_an_intact_notesheet_matches_its_locked_records():
    store = FakeRecords()
    file, rows = notesheet(["One.", "Two."], store)
    assert check(file, rows, store) == {"intact": True, "notes": 2, "problems": [], "signatures": []}


def test_a_note_changed_and_rehashed_still_differs_from_its_locked_record():
    # Someone with database access rewrites note 1 and recomputes the whole chain: the chain
    # is consistent again, but the record written when the note was made is not.
    store = FakeRecords()
    file, rows = notesheet(["One.", "Two."], store)
    forged_file, forged = notesheet(["One, forged.", "Two."])
    forged = [{**f, "record_name": r["record_name"], "record_version": r["record_version"]}
              for f, r in zip(forged, rows, strict=True)]
    found = check(forged_file, forged, store)
    assert found["intact"] is False
    assert "note 1 differs from its locked record: it was changed in the database" in found["problems"]


def test_a_record_overwritten_in_the_store_and_one_without_a_note_are_reported():
    store = FakeRecords()
    file, rows = notesheet(["One.", "Two."], store)
    store.put(rows[0]["record_name"], b"{}")
    store.put(record_name(FILE_ID, 3), b"{}")  # note 3 was deleted from the database
    problems = check(file, rows, store)["problems"]
    assert problems == ["note 1's record was overwritten in the store (the locked original is intact)",
                        "000003.json is in the object store but not in the database (deleted?)"]


def signed(file: dict, rows: list[dict], store: FakeRecords, cms: bytes) -> None:
    """Signs the last note as `notesheet.sign` does: a locked record, its hash on the note, the
    file's head moved to the note's new link."""
    import hashlib
    note = rows[-1]
    name = signature_record_name(FILE_ID, note["seq"])
    note.update(signature_sha256=hashlib.sha256(cms).hexdigest(), signature_record=name,
                signature_version=store.put(name, cms), signed_by_user="UP1", signed_at=T0)
    file["notes_head"] = link(note)


def test_the_chain_covers_a_notes_signature():
    store = FakeRecords()
    file, rows = notesheet(["Approved."], store)
    signed(file, rows, store, b"cms-1")
    after = next_note(file, body="Next.", refs={"pages": [], "notes": []}, author_user="UP2", author_post="US-GAD",
                      confirmed_at=T0 + timedelta(hours=1))
    assert after["prev_hash"] == link(rows[0]) != rows[0]["hash"]  # the next note commits to the signature
    report = check(file, rows, store)
    assert report["intact"] and [s["seq"] for s in report["signatures"]] == [1], report

    # The signature swapped in the database (another CMS's hash put on the note): the chain breaks.
    rows[0]["signature_sha256"] = "0" * 64
    assert "the file records 1 notes ending in" in " ".join(check(file, rows, store)["problems"])


def test_a_signature_record_that_differs_from_the_chain_is_reported():
    store = FakeRecords()
    file, rows = notesheet(["Approved."], store)
    signed(file, rows, store, b"cms-1")
    rows[0]["signature_version"] = store.put(rows[0]["signature_record"], b"cms-forged")
    report = check(file, rows, store)
    assert report["problems"] == ["note 1's signature differs from the one the chain records"]
    assert report["signatures"][0]["record_intact"] is False
