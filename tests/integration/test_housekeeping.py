"""Old bookkeeping and log rows are forgotten (`eoffice.housekeeping`), on the real PostgreSQL:
events published and events seen over a week ago and idempotency keys over 30 days old go;
everything younger stays, and so does an event never published, however old. Sessions, the
sign-in log, notify's messages, notifications and portal deliveries go by their own rules: what
is still to be done (a message to send, an unread notification, a delivery pending or dead)
stays, however old. Signature and registration requests never completed go a week after they
expired; one completed stays."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import MetaData, func, select, text

from eoffice import housekeeping
from eoffice.db import UnitOfWork, make_engine
from eoffice.idempotency import idempotency_table
from eoffice.messaging import messaging_tables
from eoffice.migrate import SCHEMAS
from eoffice.settings import Settings
from services.directory.models import inbox as directory_inbox
from services.directory.models import metadata as directory_metadata
from services.directory.models import sign_in_log
from services.gateway.app import create_app
from services.gateway.models import sessions as gateway_sessions
from services.notify.models import metadata as notify_metadata
from services.notify.people_tables import digests, messages, notifications
from services.notify.subscription_tables import attempts, deliveries, subscriptions
from services.signing.models import certificate_requests, signature_requests
from services.signing.models import metadata as signing_metadata
from tests.support.system import service_process, wait_until

pytestmark = pytest.mark.live
SCHEMA = "test_housekeeping"
metadata = MetaData(schema=SCHEMA)
outbox, inbox = messaging_tables(metadata)
keys = idempotency_table(metadata)


@pytest.fixture(scope="module")
def uow(migrated):
    engine = make_engine(migrated.database_url, pool_size=3)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    metadata.create_all(engine)
    yield UnitOfWork(engine)
    engine.dispose()


def ago(days: float):
    return func.now() - text(f"interval '{days} days'")


def add(uow, *, outbox_rows=(), inbox_rows=(), key_rows=()) -> None:
    """Adds rows with the given ages in days (`None`: an event not published)."""
    with uow.transaction() as session:
        for event_id, published_days_ago, created_days_ago in outbox_rows:
            session.execute(outbox.insert().values(
                id=event_id, type="eoffice.test.v1", envelope={}, created_at=ago(created_days_ago),
                published_at=None if published_days_ago is None else ago(published_days_ago)))
        for event_id, days_ago in inbox_rows:
            session.execute(inbox.insert().values(event_id=event_id, handler="test.h", processed_at=ago(days_ago)))
        for scope, days_ago in key_rows:
            session.execute(keys.insert().values(
                scope=scope, operation="test.op", fingerprint="f" * 64, answer={"id": scope}, created_at=ago(days_ago)))


def present(uow, table, column, ids) -> set[str]:
    with uow.transaction() as session:
        return set(session.execute(select(table.c[column]).where(table.c[column].in_(ids))).scalars())


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_rows_past_their_time_are_forgotten_and_the_rest_kept(uow):
    old_sent, recent_sent, never_sent, old_seen, recent_seen = ids(5)
    old_key, recent_key = uuid.uuid4().hex, uuid.uuid4().hex
    add(uow,
        outbox_rows=[(old_sent, 8, 8), (recent_sent, 6, 6), (never_sent, None, 100)],
        inbox_rows=[(old_seen, 8), (recent_seen, 6)],
        key_rows=[(old_key, 31), (recent_key, 29)])

    counts = housekeeping.prune(uow, metadata)

    assert present(uow, outbox, "id", [old_sent, recent_sent, never_sent]) == {recent_sent, never_sent}
    assert present(uow, inbox, "event_id", [old_seen, recent_seen]) == {recent_seen}
    assert present(uow, keys, "scope", [old_key, recent_key]) == {recent_key}
    assert counts == {f"{SCHEMA}.outbox": 1, f"{SCHEMA}.inbox": 1, f"{SCHEMA}.idempotency_keys": 1}
    assert housekeeping.prune(uow, metadata) == dict.fromkeys(counts, 0)  # nothing more to forget


def test_many_rows_go_in_batches(uow):
    old = ids(23)
    add(uow, inbox_rows=[(event_id, 40) for event_id in old])
    rule = next(rule for rule in housekeeping.RULES if rule.table == "inbox")

    assert housekeeping.prune_table(uow, inbox, rule, days=30, batch=5) == 23
    assert present(uow, inbox, "event_id", old) == set()


def test_a_table_another_process_is_pruning_is_left_to_it(uow):
    old = ids(3)
    add(uow, inbox_rows=[(event_id, 40) for event_id in old])
    rule = next(rule for rule in housekeeping.RULES if rule.table == "inbox")
    with uow.transaction() as other:  # another process's turn on the table, held
        assert other.execute(housekeeping.turn(inbox)).scalar_one()
        assert housekeeping.prune_table(uow, inbox, rule, days=30) == 0
        assert present(uow, inbox, "event_id", old) == set(old)
    assert housekeeping.prune_table(uow, inbox, rule, days=30) == 3


def test_the_settings_say_how_long(uow, monkeypatch):
    event_id = str(uuid.uuid4())
    add(uow, inbox_rows=[(event_id, 3)])
    housekeeping.prune(uow, metadata)
    assert present(uow, inbox, "event_id", [event_id]) == {event_id}  # kept 7 days by default
    monkeypatch.setenv("EOFFICE_KEEP_SEEN_EVENTS_DAYS", "2.5")
    from eoffice.settings import get_settings
    get_settings.cache_clear()
    try:
        assert housekeeping.prune(uow, metadata)[f"{SCHEMA}.inbox"] >= 1
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert present(uow, inbox, "event_id", [event_id]) == set()


# The index each rule's delete reads, where it is not named `<table>_<column>`.
INDEX_READ = {"messages": "messages_due", "delivery_attempts": "deliveries_delivered_at"}


@pytest.mark.parametrize("service", SCHEMAS)
def test_each_services_deletes_read_an_index(migrated, service):
    """The migrations made the indexes the deletes read, in every service's schema (the
    gateway's too): with sequential scans ruled out, PostgreSQL's plan for each delete reads its
    rule's index, and no table of it (those its condition asks) is read whole. Plain index scans
    are ruled out too, so each table is read by a condition on an index (a bitmap scan): on the
    small tables of a test database a walk of a whole index (the primary key, with the rule's
    condition as a filter) can cost the planner the same as the rule's index, and which it took
    depended on what the tests before had left in the table."""
    engine = make_engine(migrated.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            service_tables = MetaData(schema=service)
            service_tables.reflect(conn)
            rules = [rule for rule in housekeeping.RULES if rule.schema in ("", service)
                     and f"{service}.{rule.table}" in service_tables.tables]
            for scan in ("seqscan", "indexscan", "indexonlyscan"):
                conn.execute(text(f"SET enable_{scan} = off"))
            for rule in rules:
                statement = housekeeping.delete_batch(service_tables.tables[f"{service}.{rule.table}"], rule)
                compiled = statement.compile(conn)
                plan = "\n".join(row[0] for row in conn.exec_driver_sql(
                    f"EXPLAIN {compiled}", compiled.construct_params({"days": 30.0, "batch": 10})))
                assert INDEX_READ.get(rule.table, f"{rule.table}_{rule.column}") in plan, plan
                assert "Seq Scan" not in plan, plan
            conn.rollback()
    finally:
        engine.dispose()
    checked = {rule.table for rule in rules}
    assert {rule.table for rule in housekeeping.RULES if rule.schema == service} <= checked  # none left out
    assert service == "gateway" or {"outbox", "inbox"} <= checked


def test_a_service_forgets_its_old_rows_as_it_starts(uow):
    """The timer every service has (`ServiceBase.forget_old_bookkeeping`) runs as the process
    starts, on the service's own schema: here the directory's inbox."""
    old, recent = ids(2)
    with uow.transaction() as session:
        for event_id, days_ago in ((old, 8), (recent, 1)):
            session.execute(directory_inbox.insert().values(event_id=event_id, handler="t", processed_at=ago(days_ago)))
    directory = service_process("directory").start()
    try:
        wait_until(lambda: not present(uow, directory_inbox, "event_id", [old]), 60, "the directory forgetting")
    finally:
        directory.stop()
    assert present(uow, directory_inbox, "event_id", [recent]) == {recent}


def test_sessions_go_a_month_after_their_refresh_token_expired_as_a_gateway_starts(uow):
    """Every refresh makes a session row; a gateway worker forgets those whose refresh token
    expired over 30 days ago, as it starts (and hourly after). A family keeps its newer rows."""
    family = str(uuid.uuid4())
    rows = {name: str(uuid.uuid4()) for name in ("expired_31_days", "expired_29_days", "live")}
    with uow.transaction() as session:
        for (name, session_id), expires in zip(rows.items(), (ago(31), ago(29), ago(-29)), strict=True):
            session.execute(gateway_sessions.insert().values(
                id=session_id, family=family, employee_id="E-TEST", post_code="P-TEST",
                refresh_sha256=uuid.uuid4().hex * 2, expires_at=expires, created_at=ago(1),
                rotated_at=None if name == "live" else ago(1)))
    with TestClient(create_app()):
        wait_until(lambda: rows["expired_31_days"] not in present(uow, gateway_sessions, "id", list(rows.values())),
                   30, "the gateway forgetting the session expired a month ago")
    assert present(uow, gateway_sessions, "id", list(rows.values())) == {rows["expired_29_days"], rows["live"]}


def test_the_sign_in_log_is_kept_a_year(uow):
    with uow.transaction() as session:
        old, recent = (session.execute(sign_in_log.insert().values(
            email=f"{uuid.uuid4().hex}@example.org", outcome="ok", at=ago(days),
        ).returning(sign_in_log.c.id)).scalar_one() for days in (366, 364))
    housekeeping.prune(uow, directory_metadata)
    assert present(uow, sign_in_log, "id", [old, recent]) == {recent}


def test_the_sign_in_log_cannot_be_kept_less_than_180_days():
    with pytest.raises(ValidationError, match="keep_sign_in_log_days"):
        Settings(keep_sign_in_log_days=90)


def test_notify_forgets_what_it_sent_and_what_was_read_and_keeps_what_is_still_to_do(uow):
    """E-mails and SMS sent, failed or moved go after 90 days, digests sent too; a message still
    to go stays however old. A notification read over 180 days ago goes once its messages have
    gone; an unread one stays however old."""
    def notification(created: float, read: float | None) -> int:
        return session.execute(notifications.insert().values(
            post_code="P-TEST", kind="received", item_type="file", item_id=str(uuid.uuid4()),
            event_id=str(uuid.uuid4()), created_at=ago(created), read_at=None if read is None else ago(read),
        ).returning(notifications.c.id)).scalar_one()

    def message(notification_id: int, status: str, days: float) -> int:
        return session.execute(messages.insert().values(
            notification_id=notification_id, employee_id=uuid.uuid4().hex[:20], channel="email",
            address="a@example.org", language="en", status=status, not_before=ago(days),
        ).returning(messages.c.id)).scalar_one()

    with uow.transaction() as session:
        read_long_ago = notification(200, 190)
        read_long_ago_waiting = notification(200, 190)  # its e-mail still waits: it stays
        read_lately, unread_long_ago = notification(200, 170), notification(400, None)
        sent_long_ago, failed_long_ago = message(read_long_ago, "sent", 195), message(read_long_ago, "failed", 195)
        waiting_long_ago = message(read_long_ago_waiting, "pending", 195)
        sent_lately = message(read_lately, "sent", 80)
        digest_waiting, moved_long_ago = message(unread_long_ago, "digest", 100), message(unread_long_ago, "moved", 100)
        employee = uuid.uuid4().hex[:20]
        for days in (91, 89):
            session.execute(digests.insert().values(employee_id=employee, day=date.today() - timedelta(days=days),
                                                    items=1, sent_at=ago(days)))

    housekeeping.prune(uow, notify_metadata)

    assert present(uow, messages, "id", [sent_long_ago, failed_long_ago, waiting_long_ago, sent_lately,
                                         digest_waiting, moved_long_ago]) == {waiting_long_ago, sent_lately,
                                                                              digest_waiting}
    assert present(uow, notifications, "id", [read_long_ago, read_long_ago_waiting, read_lately, unread_long_ago]) == {
        read_long_ago_waiting, read_lately, unread_long_ago}
    with uow.transaction() as session:
        days_left = session.execute(select(digests.c.day).where(digests.c.employee_id == employee)).scalars().all()
    assert days_left == [date.today() - timedelta(days=89)]


def test_portal_deliveries_go_a_month_after_they_were_delivered_and_dead_letters_stay(uow):
    subscription = str(uuid.uuid4())
    with uow.transaction() as session:
        session.execute(subscriptions.insert().values(
            id=subscription, name="test portal", delivery="webhook", url="https://portal.example.org/hook",
            event_types=[], offices=[], admin_user="E-TEST"))

        def delivery(state: str, days: float) -> int:
            delivery_id = session.execute(deliveries.insert().values(
                subscription_id=subscription, event_id=str(uuid.uuid4()), event_type="eoffice.file.sent.v1",
                subject="", event_time=ago(days), body="{}", state=state, created_at=ago(days),
                delivered_at=ago(days) if state == "delivered" else None).returning(deliveries.c.id)).scalar_one()
            for ok in (False, state == "delivered"):
                session.execute(attempts.insert().values(delivery_id=delivery_id, subscription_id=subscription,
                                                         at=ago(days), ok=ok, seconds=0.1))
            return delivery_id

        delivered_long_ago, delivered_lately = delivery("delivered", 31), delivery("delivered", 29)
        dead_long_ago, pending_long_ago = delivery("dead", 100), delivery("pending", 100)

    housekeeping.prune(uow, notify_metadata)

    kept = {delivered_lately, dead_long_ago, pending_long_ago}
    assert present(uow, deliveries, "id", [delivered_long_ago, *kept]) == kept
    with uow.transaction() as session:
        attempts_left = session.execute(select(attempts.c.delivery_id).where(
            attempts.c.subscription_id == subscription)).scalars().all()
    assert sorted(attempts_left) == sorted([*kept, *kept])  # two each, and none of the one forgotten


def test_requests_never_completed_go_a_week_after_they_expired_and_completed_ones_stay(uow):
    """A note's signature request never signed and a certificate's registration request never
    proven are forgotten 7 days after they expired (neither can be completed); younger ones, and
    those that were signed or registered the certificate, stay however old."""
    def note_request(expired: float, signed: bool) -> str:
        request_id = str(uuid.uuid4())
        session.execute(signature_requests.insert().values(
            id=request_id, user_id="E-TEST", post_id="P-TEST", key_path="officer_token", certificate_sha256="0" * 64,
            file_id=str(uuid.uuid4()), note_seq=1, content=b"note", attributes=b"attrs", created_at=ago(expired + 1),
            expires_at=ago(expired), signature_id=str(uuid.uuid4()) if signed else None))
        return request_id

    def registration(expired: float, state: str) -> str:
        request_id = str(uuid.uuid4())
        session.execute(certificate_requests.insert().values(
            id=request_id, user_id="E-TEST", certificate_sha256="0" * 64, der=b"der", content=b"challenge",
            attributes=b"attrs", state=state, created_at=ago(expired + 1), expires_at=ago(expired),
            registered_at=ago(expired + 0.5) if state == "registered" else None))
        return request_id

    with uow.transaction() as session:
        unsigned_old, unsigned_lately = note_request(8, False), note_request(6, False)
        signed_old = note_request(30, True)
        pending_old, pending_lately = registration(8, "pending"), registration(6, "pending")
        registered_old = registration(30, "registered")

    housekeeping.prune(uow, signing_metadata)

    assert present(uow, signature_requests, "id", [unsigned_old, unsigned_lately, signed_old]) == {
        unsigned_lately, signed_old}
    assert present(uow, certificate_requests, "id", [pending_old, pending_lately, registered_old]) == {
        pending_lately, registered_old}
