"""The demo organisation, the CSV files beside this module (README.md explains the columns),
read as rows: for the tests, the benchmarks and anyone trying the system. It is loaded into a
running system by `python -m services.directory.load` (the default folder)."""
from __future__ import annotations

import csv
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
PASSWORD = "Demo@12345"  # every demo user's initial password


def rows(name: str) -> list[dict]:
    """Returns the rows of one demo file (offices, holidays, posts, users, postings) as dicts."""
    with open(FOLDER / f"{name}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def holder_email(post_code: str) -> str:
    """The demo e-mail of whoever holds a post today, from the demo files themselves."""
    emails = {u["employee_id"]: u["email"] for u in rows("users")}
    return next(emails[p["employee_id"]] for p in rows("postings")
                if p["post_code"] == post_code and not p["end_date"])
