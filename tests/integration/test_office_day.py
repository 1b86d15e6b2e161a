"""The office day is the day in India: at 20:00 UTC on 31 December it is already 1 January in
Lucknow, so a receipt's copy made then is numbered in the new year's diary and a file opened
then carries the new year in its number, whatever the server's own (UTC) date says.

The domain code runs in-process on the real database, in a transaction that is rolled back,
with the clock (`eoffice.clock.now`) set to that evening."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from eoffice import clock
from eoffice.actor import Actor
from eoffice.db import make_engine
from services.dak import receipts
from services.files import casefile
from services.files.schemas import CreateFile, SubjectHead

pytestmark = pytest.mark.live
# New Year's Eve of this year, 20:00 UTC: 01:30 on 1 January in India.
YEAR = datetime.now(UTC).year
EVENING = datetime(YEAR, 12, 31, 20, 0, tzinfo=UTC)
CLERK = Actor(user_id="UP-TEST-1", post_id="DAKCLK1-LKO", office_id="LKO-DAK", roles={"dak_clerk"})


@pytest.fixture
def session(migrated, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: EVENING)
    engine = make_engine(migrated.database_url, pool_size=1)
    with engine.connect() as conn:
        outer = conn.begin()
        yield Session(bind=conn)
        outer.rollback()
    engine.dispose()


def test_a_copy_made_on_new_years_eve_utc_is_numbered_in_the_new_years_diary(session):
    assert clock.today().isoformat() == f"{YEAR + 1}-01-01"
    original = {"id": "00000000-0000-0000-0000-00000000000a", "diary_number": f"41/{YEAR}/LKO-DAK",
                "subject": "Land records", "sender_name": "Ram Prasad", "received_date": EVENING.date(),
                "mode": "post", "language": "hi", "security_grading": "normal", "physical": False}
    copy = receipts.copy_for(session, CLERK, original, to_post="DM-LKO", fields={
        "opened": False, "received": True, "priority": "normal", "due_date": None})
    assert copy["year"] == YEAR + 1 and copy["diary_number"] == f"1/{YEAR + 1}/LKO-DAK"


def test_a_file_opened_on_new_years_eve_utc_carries_the_new_year(session):
    officer = Actor(user_id="UP-TEST-2", post_id="PA(DM)-LKO", office_id="DIST-LKO", roles={"section_staff"})
    casefile.add_subject_head(session, "DIST-LKO", SubjectHead(code="77", title="Land"))
    opened = casefile.create(session, officer, CreateFile(subject_head="77", subject="Encroachment on pond"))
    assert opened["file_number"] == f"N-77/1/{YEAR + 1}-DIST-LKO"
