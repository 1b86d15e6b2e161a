"""Crash points: where a test may kill a service process mid-way through its work.

`crash_point("files.send")` ends the process at once (no cleanup, no reply, no commit) when
EOFFICE_CRASH_AT names that point. Nothing else happens: in normal runs the variable is unset.
Tests use it to show that a crash leaves work done or not done, never half done."""

from __future__ import annotations

import os


def crash_point(name: str) -> None:
    if os.environ.get("EOFFICE_CRASH_AT") == name:
        os._exit(70)
