"""A database that is away is a 503 to retry, not a 500; other database errors stay errors."""

from __future__ import annotations

import psycopg2
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
