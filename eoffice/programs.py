"""Our long-running processes, from the one list in `deploy/programs`: each nameko service
process (with the class it runs, its number of workers and how many instances of it run at
once) and the gateway."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LIST = Path(__file__).resolve().parent.parent / "deploy" / "programs"


@dataclass(frozen=True)
class Program:
    name: str
    target: str  # "module:Class" for nameko, "module:app" for the gateway
    workers: int | None  # None for the gateway (gunicorn has its own settings)
    instances: int = 1  # processes of it at once (gateways: one gunicorn master each, own port)


def programs() -> list[Program]:
    """Every program, in the list's order; EOFFICE_INSTANCES (a number) overrides every
    program's instance count, as in deploy/lib/services.sh."""
    found, every = [], os.environ.get("EOFFICE_INSTANCES")
    for line in LIST.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, target, workers, instances = line.split()
            found.append(Program(name, target, None if workers == "-" else int(workers), int(every or instances)))
    return found


def services() -> list[Program]:
    """The nameko processes (every program but the gateway)."""
    return [p for p in programs() if p.workers is not None]


def program(name: str) -> Program:
    return next(p for p in programs() if p.name == name)
