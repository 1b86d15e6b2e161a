"""Loads an organisation from a folder of CSV files straight into the directory's schema: how
an installation gets its first users (including its system admin) before anyone can sign in.

    python -m services.directory.load [FOLDER] [--initial-password PASSWORD]

FOLDER defaults to the demo organisation (services/directory/demo). Safe to run again: rows
already there are left alone. Prints the import report; exits 1 if any row was rejected."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eoffice.db import UnitOfWork, make_engine
from eoffice.messaging import record_event
from services.directory import importer, models
from services.directory.demo import FOLDER as DEMO
from services.directory.demo import PASSWORD as DEMO_PASSWORD
from services.directory.organisation import hasher


def load(folder: Path, initial_password: str | None, *, database_url: str | None = None) -> importer.Report:
    """Imports the folder's CSV files in one transaction into `database_url` (default:
    EOFFICE_DATABASE_URL), new users with `initial_password` (hashed once for all of them)."""
    files = {
        name: (folder / f"{name}.csv").read_text(encoding="utf-8")
        for name in importer.FILES
        if (folder / f"{name}.csv").exists()
    }
    engine = make_engine(database_url, pool_size=1)
    try:
        with UnitOfWork(engine).transaction() as session:
            report = importer.apply(
                session, files, initial_password_hash=hasher.hash(initial_password) if initial_password else None
            )
            record_event(session, models.outbox, service="directory", payload=report.as_event())
    finally:
        engine.dispose()
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.directory.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", nargs="?", type=Path, default=DEMO)
    parser.add_argument("--initial-password", help=f"for users created now (demo default: {DEMO_PASSWORD})")
    args = parser.parse_args(argv)
    password = args.initial_password or (DEMO_PASSWORD if args.folder.resolve() == DEMO else None)
    report = load(args.folder, password)
    summary = {k: sum(v.values()) for k, v in report.as_dict().items() if isinstance(v, dict)}
    print(
        f"created {summary['created']}, changed {summary['changed']}, unchanged {summary['unchanged']}, "
        f"rejected {len(report.rejected)}"
    )
    for rejection in report.rejected:
        print(json.dumps(rejection, ensure_ascii=False), file=sys.stderr)
    return 1 if report.rejected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
