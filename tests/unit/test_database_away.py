"""A database that is away is a 503 to retry, not a 500; other database errors stay errors."""

from __future__ import annotations

import psycopg2
import pytest
from sqlalchemy import exc

from eoffice.db import database_away
from eoffice.errors import Unavailable


def test_a_lost_or_refused_connection_is_unavailable_with_a_retry_time():
    for error in (
        exc.OperationalError("SELECT 1", {}, psycopg2.OperationalError("terminating connection")),
        exc.InterfaceError("SELECT 1", {}, psycopg2.InterfaceError("closed"), connection_invalidated=True),
    ):
        away = database_away(error)
        assert isinstance(away, Unavailable) and away.status == 503, error
        assert away.fields["retry_after"] > 0 and "database is not answering" in away.detail


def test_a_broken_rule_or_a_bug_is_not_mistaken_for_an_outage():
    assert database_away(exc.IntegrityError("INSERT", {}, psycopg2.IntegrityError("duplicate key"))) is None
    assert database_away(exc.ProgrammingError("SELEC", {}, psycopg2.ProgrammingError("syntax error"))) is None
    assert database_away(ValueError("not a database error")) is None


def _portals(lease_left: float):
    import eventlet

    from services.notify.portals import Portals

    portals = Portals.__new__(Portals)  # no container: only the retry of a delivery round's transaction
    portals.running, portals.held = True, {"sub": eventlet.hubs.get_hub().clock() + lease_left}
    return portals


def _failing(times: int, error: Exception):
    calls = []

    def transaction():
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "recorded"

    return transaction, calls


def test_webhook_outcomes_are_recorded_once_the_database_is_back_not_dropped_and_sent_again():
    lost = exc.OperationalError("COMMIT", {}, psycopg2.OperationalError("server closed the connection unexpectedly"))
    transaction, calls = _failing(2, lost)
    assert _portals(lease_left=30)._while_database_away("sub", transaction) == "recorded" and len(calls) == 3

    # Without the lease, another process may send them meanwhile: not recorded here, the error stands.
    transaction, calls = _failing(1, lost)
    with pytest.raises(exc.OperationalError):
        _portals(lease_left=-1)._while_database_away("sub", transaction)
    # A broken statement is no outage: it is not tried again.
    transaction, calls = _failing(1, exc.ProgrammingError("SELEC", {}, psycopg2.ProgrammingError("syntax error")))
    with pytest.raises(exc.ProgrammingError):
        _portals(lease_left=30)._while_database_away("sub", transaction)
    assert len(calls) == 1


def test_forgetting_old_bookkeeping_waits_for_the_next_hour_while_the_database_is_away(monkeypatch, caplog):
    from nameko.testing.services import worker_factory

    from eoffice import housekeeping
    from services.files.service import FilesService

    worker = worker_factory(FilesService)
    away = exc.OperationalError("DELETE", {}, psycopg2.OperationalError("connection refused"))
    monkeypatch.setattr(housekeeping, "prune", lambda *_, **__: (_ for _ in ()).throw(away))
    worker.forget_old_bookkeeping()  # no error: the timer tries again within the hour
    assert "database is away" in caplog.text

    broken = exc.ProgrammingError("DELETE", {}, psycopg2.ProgrammingError("no such column"))
    monkeypatch.setattr(housekeeping, "prune", lambda *_, **__: (_ for _ in ()).throw(broken))
    with pytest.raises(exc.ProgrammingError):  # a fault of ours stays an error, logged as one
        worker.forget_old_bookkeeping()
