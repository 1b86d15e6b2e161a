"""Receipts: diarising with a gap-free diary number, moving between posts, closing and
correcting, the inbox of a post, and the sender's public status.

Work belongs to posts: a receipt is held by a post, not a person, so when the post changes
hands its pending receipts are the new holder's at once. Every step is a row in `movements`."""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Executable, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eoffice import clock
from eoffice.access import acting_posts, require_visible
from eoffice.actor import Actor
from eoffice.contracts.common import Page
from eoffice.contracts.dak import require_diarist  # noqa: F401  (published: the gateway asks it too)
from eoffice.db import fixed_text
from eoffice.errors import InvalidInput, NotFound
from eoffice.movement import (
    arriving,
    needs_receiving,
    opens,
    pull_back_from,
    pulled_back,
    require_actable,
    require_elsewhere,
)
from eoffice.paging import keyset_page, newest_first_page
from services.dak.models import corrections, diary_counters, movements, receipts, scans
from services.dak.schemas import FROZEN_AFTER_MOVE, Correct, Diarise, InboxQuery, ScanRef, Send

TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U to misread
# The movements by which a post sent a receipt to another: each is on the sender's Sent list and
# pulled back until opened. Marking to several posts is one send: a copy is sent as the letter is.
SENDS = ("sent", "forwarded", "copied")
MISREAD = str.maketrans("OIL", "011")  # the digits a citizen may type as letters off a printed code


def numbered(session: Session, *, receipt: dict, movement: dict) -> dict:
    """Inserts `receipt` (a row of `receipts` without its number) with the next diary serial of
    its office's year, and its first movement (a row of `movements` without the receipt id);
    returns the receipt as stored (its defaults filled).

    The counter row stays locked until the caller's transaction ends: a rollback gives the
    number back, so numbers have no gaps. Every diarisation of the office waits for that lock,
    so it is taken by the transaction's last statement but the few writes that need the
    number: one statement takes it and writes the receipt and the movement (on this box the
    diary ran at 75 a second with the lock held over five round trips, 14 ms, docs/benchmarks.md).
    The year's first receipt makes its counter row first."""
    statement = _numbering(tuple(receipt), tuple(movement))
    given = {**receipt, **{f"movement_{name}": value for name, value in movement.items()}}
    made = session.execute(statement, given).mappings().first()
    if made is None:
        session.execute(
            insert(diary_counters)
            .values(office_code=receipt["office_code"], year=receipt["year"], last_serial=0)
            .on_conflict_do_nothing()
        )
        made = session.execute(statement, given).mappings().one()
    return dict(made)


@functools.cache
def _numbering(receipt_columns: tuple[str, ...], movement_columns: tuple[str, ...]) -> Executable:
    """The statement of `numbered` for these columns, each a parameter of its name (a
    movement's prefixed `movement_`): built once for each set of columns, as text
    (`fixed_text`: SQLAlchemy does not cache a statement with an INSERT in a CTE)."""
    taken = (
        update(diary_counters)
        .where(
            diary_counters.c.office_code == bindparam("office_code"),
            diary_counters.c.year == bindparam("year"),
        )
        .values(last_serial=diary_counters.c.last_serial + 1)
        .returning(diary_counters.c.last_serial)
        .cte("taken")
    )
    number = func.concat(taken.c.last_serial, "/", bindparam("year"), "/", bindparam("office_code"))
    given = [bindparam(name, type_=receipts.c[name].type) for name in receipt_columns]
    added = (
        insert(receipts)
        .from_select(["serial", "diary_number", *receipt_columns], select(taken.c.last_serial, number, *given))
        .returning(*receipts.c)
        .cte("added")
    )
    logged = insert(movements).from_select(
        ["receipt_id", *movement_columns],
        select(added.c.id, *(bindparam(f"movement_{name}", type_=movements.c[name].type) for name in movement_columns)),
    )
    return fixed_text(select(added).add_cte(logged.cte("logged")))


_ADD_MOVEMENT = movements.insert().returning(*movements.c)  # the answer shows the stored row, its time too
_ADD_CORRECTIONS = corrections.insert().returning(*corrections.c, sort_by_parameter_order=True)


def new_tracking_code() -> str:
    """60 random bits as XXXX-XXXX-XXXX: printable on an acknowledgement, not guessable."""
    code = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(12))
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def _record(
    session: Session, office_code: str, year: int, *, holder_post: str, by_user: str, fields: dict, movement: dict
) -> dict:
    """Inserts a receipt with the next diary number of the office's year and its first
    `movement` (`numbered`); returns the row as stored (its defaults filled)."""
    row = {
        "id": str(uuid.uuid4()),
        "office_code": office_code,
        "year": year,
        "holder_post": holder_post,
        "diarised_by": by_user,
        "tracking_code": new_tracking_code(),
        **fields,
    }
    return numbered(session, receipt=row, movement={"remarks": "", **movement, "by_user": by_user})


def _log(
    session: Session,
    receipt_id: str,
    action: str,
    *,
    actor: Actor,
    to_post: str,
    from_post: str | None = None,
    remarks: str = "",
    **extra,
) -> dict:
    movement = {
        "receipt_id": receipt_id,
        "action": action,
        "from_post": from_post,
        "to_post": to_post,
        "by_user": actor.user_id,
        "remarks": remarks,
        **extra,
    }
    return dict(session.execute(_ADD_MOVEMENT, movement).mappings().one())


def diarise(session: Session, actor: Actor, *, letter: Diarise, documents: list[ScanRef]) -> dict:
    """Records a receipt in the actor's office, held by the actor's post; returns it. An
    electronic receipt needs at least one document; a physical one carries metadata only. The
    diary number is of the year it is diarised in (the office day), whatever the received date."""
    if not letter.physical and not documents:
        raise InvalidInput("an electronic receipt needs its scan: upload the letter with it", field="scans")
    if letter.physical and documents:
        raise InvalidInput(
            "a physical receipt carries metadata only; diarise scans as an electronic receipt", field="physical"
        )
    row = _record(
        session,
        actor.acting_office(),
        clock.today().year,
        holder_post=actor.acting_post(),
        by_user=actor.user_id,
        fields={"opened": True, "received": True, **letter.model_dump()},
        movement={"action": "diarised", "to_post": actor.acting_post()},
    )
    if documents:
        session.execute(
            scans.insert(),
            [
                {"receipt_id": row["id"], "position": n, "ocr_status": "pending", **doc.model_dump()}
                for n, doc in enumerate(documents, start=1)
            ],
        )
    return row


def receipt(session: Session, receipt_id: str) -> dict:
    return dict(session.execute(select(receipts).where(receipts.c.id == receipt_id)).mappings().one())


def _locked(session: Session, receipt_id: str) -> dict | None:
    row = session.execute(select(receipts).where(receipts.c.id == receipt_id).with_for_update()).mappings().first()
    return dict(row) if row else None


def held(session: Session, *, actor: Actor, receipt_id: str, status: str | None = "open") -> dict:
    """Returns the receipt, locked, if the actor's post (or a post delegated to it) holds it.
    Raises NotFound when there is no such receipt or the actor may not see it (`visible`),
    NotCurrentHolder when another post holds it, Conflict when it is not in `status` or is
    physical and not yet received (rule 3)."""
    row, _ = visible(session, actor, receipt_id=receipt_id, lock=True)
    require_actable(
        actor,
        row,
        label=f"receipt {row['diary_number']}",
        statuses=(status,) if status else None,
        state=_describe(row) if status else None,
    )
    return row


def _describe(row: dict) -> str:
    return {
        "open": "open",
        "closed": "closed: reopen it first",
        "in_file": f"in file {row['file_id']} and moves with the file",
    }[row["status"]]


def history(session: Session, receipt_id: str) -> list[dict]:
    return [
        dict(m)
        for m in session.execute(
            select(movements).where(movements.c.receipt_id == receipt_id).order_by(movements.c.id)
        ).mappings()
    ]


def documents(session: Session, receipt_id: str) -> list[dict]:
    return [
        dict(s)
        for s in session.execute(
            select(scans).where(scans.c.receipt_id == receipt_id).order_by(scans.c.position)
        ).mappings()
    ]


def visible(
    session: Session,
    actor: Actor,
    *,
    receipt_id: str,
    lock: bool = False,
    reads_file: Callable[[str], bool] | None = None,
) -> tuple[dict, list[dict]]:
    """Returns the receipt and its movements if the actor's post holds it or ever held or
    moved it, or, for a receipt put in a file, if `reads_file(file_id)` says the actor may read
    that file (its correspondence is the file's: rule 1, others with rights may read); NotFound
    otherwise, whatever the caller meant to do, so strangers learn nothing (`eoffice.access`).
    Every step on a receipt starts here."""
    row: Mapping[Any, Any] | None = (
        _locked(session, receipt_id)
        if lock
        else session.execute(select(receipts).where(receipts.c.id == receipt_id)).mappings().first()
    )
    moves = history(session, receipt_id) if row else []
    in_readable_file = None
    if reads_file is not None:
        in_readable_file = lambda r: r["file_id"] is not None and reads_file(r["file_id"])  # noqa: E731
    receipt = require_visible(actor, "receipt", receipt_id, item=row, movements=moves, oversees=in_readable_file)
    return dict(receipt), moves


def copy_for(session: Session, actor: Actor, original: dict, *, to_post: str, fields: dict) -> dict:
    """Makes a copy of a receipt for another post, with a diary number of its own in the
    actor's office, sharing the original's documents and their text."""
    keep = {k: v for k, v in original.items() if k in Diarise.model_fields}
    # Numbered in the diary of the office day, not of the server's (UTC) day.
    row = _record(
        session,
        actor.acting_office(),
        clock.today().year,
        holder_post=to_post,
        by_user=actor.user_id,
        fields={
            **keep,
            "copy_of": original["id"],
            "moved": True,
            "opened": False,
            "received": not original["physical"],
            **fields,
        },
        movement={
            "action": "copied",
            "to_post": to_post,
            "from_post": actor.post_id,
            "remarks": f"copy of {original['diary_number']}",
            "priority": fields["priority"],
            "due_date": fields["due_date"],
        },
    )
    docs = documents(session, original["id"])
    if docs:
        session.execute(
            scans.insert(), [{**{k: v for k, v in d.items() if k != "id"}, "receipt_id": row["id"]} for d in docs]
        )
    return row


def send(session: Session, *, actor: Actor, receipt_id: str, request: Send, due: dict[str, date]) -> dict:
    """Moves the receipt to `request.to_post` and gives each `copy_to` post a copy; returns
    the movement with the copies. `due` holds each recipient's due date."""
    row = held(session, actor=actor, receipt_id=receipt_id)
    require_elsewhere(row, [request.to_post, *request.copy_to], label=f"receipt {row['diary_number']}")
    action = "forwarded" if row["moved"] else "sent"
    unopened = {**arriving(row), "priority": request.priority}
    session.execute(
        update(receipts)
        .where(receipts.c.id == receipt_id)
        .values(holder_post=request.to_post, moved=True, due_date=due[request.to_post], **unopened)
    )
    movement = _log(
        session,
        receipt_id,
        action,
        actor=actor,
        to_post=request.to_post,
        from_post=row["holder_post"],
        remarks=request.remarks,
        priority=request.priority,
        due_date=due[request.to_post],
    )
    copies = [
        copy_for(session, actor, row, to_post=post, fields={**unopened, "due_date": due[post]})
        for post in request.copy_to
    ]
    return {
        **movement,
        "diary_number": row["diary_number"],
        "copies": [
            {"receipt_id": c["id"], "diary_number": c["diary_number"], "to_post": c["holder_post"]} for c in copies
        ],
    }


def open_receipt(
    session: Session, actor: Actor, receipt_id: str, *, reads_file: Callable[[str], bool] | None = None
) -> tuple[dict, dict | None]:
    """Returns the receipt with its movements and documents, and the movement if this call
    opened it. When its holder opens it, it counts as opened and can no longer be pulled
    back (rule 4). Others who may see it (`visible`) look without opening it."""
    row, moves = visible(session, actor, receipt_id=receipt_id, lock=True, reads_file=reads_file)
    opened = _opened(session, actor, row)
    if opened:
        moves.append(opened)
    return {**row, "movements": moves, "scans": documents(session, receipt_id)}, (
        {**opened, "diary_number": row["diary_number"]} if opened else None
    )


def _opened(session: Session, actor: Actor, row: dict) -> dict | None:
    """Marks the receipt (`row`, locked) opened if the actor's post holds it and had not opened
    it yet, and returns the movement logged; None otherwise. Any step of the holder on it counts
    as opening it (rule 4): its sender can no longer pull it back."""
    if not opens(actor, row):
        return None
    session.execute(update(receipts).where(receipts.c.id == row["id"]).values(opened=True))
    row["opened"] = True
    return _log(session, row["id"], "opened", actor=actor, to_post=row["holder_post"])


def receive(session: Session, actor: Actor, receipt_id: str) -> dict | None:
    """The holder of a physical receipt confirms the paper reached them (rule 3). Returns the
    movement, or None if it was received already."""
    row, _ = visible(session, actor, receipt_id=receipt_id, lock=True)
    if not needs_receiving(actor, row, label=f"receipt {row['diary_number']}"):
        return None
    session.execute(update(receipts).where(receipts.c.id == receipt_id).values(received=True, opened=True))
    return {
        **_log(session, receipt_id, "received", actor=actor, to_post=row["holder_post"]),
        "diary_number": row["diary_number"],
    }


def pull_back(session: Session, actor: Actor, receipt_id: str) -> dict:
    """Takes back a receipt (or a copy) the actor's post sent, while the recipient has not opened it."""
    row, moves = visible(session, actor, receipt_id=receipt_id, lock=True)
    last = pull_back_from(actor, row, moves, label=f"receipt {row['diary_number']}", sends=SENDS, statuses=("open",))
    session.execute(update(receipts).where(receipts.c.id == receipt_id).values(**pulled_back(last)))
    return {
        **_log(session, receipt_id, "pulled_back", actor=actor, to_post=last["from_post"], from_post=last["to_post"]),
        "diary_number": row["diary_number"],
    }


def _change_status(
    session: Session, actor: Actor, receipt_id: str, *, status: str, to: str, action: str, remarks: str, **values
) -> dict:
    row = held(session, actor=actor, receipt_id=receipt_id, status=status)
    session.execute(update(receipts).where(receipts.c.id == receipt_id).values(status=to, **values))
    return {
        **_log(session, receipt_id, action, actor=actor, to_post=row["holder_post"], remarks=remarks),
        "diary_number": row["diary_number"],
    }


def put_in_file(session: Session, actor: Actor, *, receipt_id: str, file: dict, remarks: str) -> dict:
    """Attaches the receipt to a file; from then on it moves with the file."""
    step = _change_status(
        session,
        actor,
        receipt_id,
        status="open",
        to="in_file",
        action="put_in_file",
        remarks=remarks or f"put in file {file['file_number']}",
        file_id=file["file_id"],
    )
    row = receipt(session, receipt_id)
    pages = sum(d["pages"] for d in documents(session, receipt_id) if d["content_type"] != "message/rfc822")
    return {
        **step,
        "file_id": file["file_id"],
        "file_number": file["file_number"],
        "subject": row["subject"],
        "pages": max(pages, 1),
    }


def close(session: Session, actor: Actor, *, receipt_id: str, remarks: str) -> dict:
    return _change_status(
        session, actor, receipt_id, status="open", to="closed", action="closed", remarks=remarks, due_date=None
    )


def reopen(session: Session, actor: Actor, *, receipt_id: str, remarks: str) -> dict:
    return _change_status(session, actor, receipt_id, status="closed", to="open", action="reopened", remarks=remarks)


def correct(
    session: Session,
    actor: Actor,
    *,
    receipt_id: str,
    request: Correct,
    reads_file: Callable[[str], bool],
    holds_file: Callable[[str], None],
) -> tuple[dict, list[dict], dict | None]:
    """Corrects metadata as the current holder; returns the receipt, the corrections made and the
    movement if correcting opened it (the holder's first step on it, rule 4).
    A receipt put in a file moves with the file: its holder is the file's (`holds_file(file_id)`
    raises unless the actor holds the file, open), not the post that put it in. Received date,
    letter date and mode are frozen once the receipt has moved (rule 9)."""
    row, _ = visible(session, actor, receipt_id=receipt_id, lock=True, reads_file=reads_file)
    if row["status"] == "in_file":
        holds_file(row["file_id"])
    else:
        require_actable(actor, row, label=f"receipt {row['diary_number']}")
    wanted = {f: getattr(request, f) for f in Correct.model_fields if f in request.model_fields_set and f != "reason"}
    frozen = sorted(f for f in wanted if f in FROZEN_AFTER_MOVE and wanted[f] != row[f])
    if frozen and row["moved"]:
        raise InvalidInput(
            f"{', '.join(frozen)} cannot change once the receipt has moved (rule 9)",
            field=frozen[0],
            errors=[
                {"field": f, "message": "frozen once the receipt has moved", "type": "frozen_once_moved"}
                for f in frozen
            ],
        )
    if any(wanted.get(f, row[f]) is None for f in ("subject", "sender_name", "received_date", "mode")):
        raise InvalidInput("subject, sender_name, received_date and mode cannot be emptied")
    changes = {f: v for f, v in wanted.items() if v != row[f]}
    letter_date, received_date = (
        changes.get("letter_date", row["letter_date"]),
        changes.get("received_date", row["received_date"]),
    )
    if letter_date and letter_date > received_date:
        raise InvalidInput("letter_date is after received_date", field="letter_date")
    made = [
        {
            "receipt_id": receipt_id,
            "field": f,
            "old_value": _text(row[f]),
            "new_value": _text(v),
            "by_user": actor.user_id,
            "by_post": actor.post_id,
        }
        for f, v in changes.items()
    ]
    opened = None
    if changes:
        if row["status"] != "in_file":
            opened = _opened(session, actor, row)
        session.execute(update(receipts).where(receipts.c.id == receipt_id).values(**changes))
        made = [dict(row) for row in session.execute(_ADD_CORRECTIONS, made).mappings()]
        _log(
            session,
            receipt_id,
            "corrected",
            actor=actor,
            to_post=row["holder_post"],
            remarks=f"{', '.join(sorted(changes))}: {request.reason}",
        )
    return receipt(session, receipt_id), made, ({**opened, "diary_number": row["diary_number"]} if opened else None)


def _text(value) -> str | None:
    return None if value is None else value.isoformat() if isinstance(value, date) else str(value)


def corrections_of(session: Session, receipt_id: str) -> list[dict]:
    return [
        dict(c)
        for c in session.execute(
            select(corrections).where(corrections.c.receipt_id == receipt_id).order_by(corrections.c.id)
        ).mappings()
    ]


def inbox(session: Session, actor: Actor, *, query: InboxQuery, today: date) -> dict:
    """Returns the open receipts pending with the actor's post and the posts delegated to it,
    filtered: unread (not yet opened), physical or electronic, overdue (past its due date);
    the latest diarised first."""
    where = [receipts.c.holder_post.in_(acting_posts(actor)), receipts.c.status == "open"]
    if query.unread is not None:
        where.append(receipts.c.opened.is_(not query.unread))
    if query.kind:
        where.append(receipts.c.physical.is_(query.kind == "physical"))
    if query.overdue is not None:
        late = and_(receipts.c.due_date.is_not(None), receipts.c.due_date < today)
        where.append(late if query.overdue else ~late)
    return newest_first_page(
        session,
        select(receipts).where(*where),
        at=receipts.c.diarised_at,
        key=receipts.c.id,
        after=query.after,
        limit=query.limit,
    )


def sent(session: Session, actor: Actor, *, page: Page) -> dict:
    """Returns the open receipts the actor's post (or a post delegated to it) sent, forwarded or
    marked a copy of (`SENDS`) that another post holds now, the one sent last first: the sender's
    "sent" list, from which a pull back starts."""
    posts = acting_posts(actor)
    last_sent = (
        select(movements.c.receipt_id, func.max(movements.c.id).label("last_sent"))
        .where(movements.c.from_post.in_(posts), movements.c.action.in_(SENDS))
        .group_by(movements.c.receipt_id)
        .subquery()
    )
    query = (
        select(receipts, last_sent.c.last_sent)
        .join(last_sent, last_sent.c.receipt_id == receipts.c.id)
        .where(receipts.c.status == "open", receipts.c.holder_post.not_in(posts))
    )
    return keyset_page(session, query, last_sent.c.last_sent, after=page.after, limit=page.limit, descending=True)


def public_status(session: Session, tracking_code: str) -> dict:
    """The coarse status a sender may see with their tracking code, and nothing else. The code is
    read as Crockford's base 32 is: case and hyphens aside, a letter O typed for the digit 0, and
    I or L for 1, are those digits (the alphabet has none of them, so no code is mistaken)."""
    code = tracking_code.strip().upper().replace("-", "").translate(MISREAD)
    row = session.execute(
        select(receipts.c.tracking_code, receipts.c.status, receipts.c.moved, receipts.c.file_closed).where(
            func.replace(receipts.c.tracking_code, "-", "") == code
        )
    ).first()
    if row is None:
        raise NotFound("no receipt with that tracking code")
    # a receipt in a file is dealt with when the file is: disposed while that file is closed
    in_file = "disposed" if row.file_closed else "under_process"
    status = {"closed": "disposed", "in_file": in_file}.get(row.status)
    return {"tracking_code": row.tracking_code, "status": status or ("under_process" if row.moved else "received")}


def mark_file_closed(session: Session, file_id: str, *, closed: bool, as_of: datetime) -> None:
    """Records on every receipt put in `file_id` whether that file is closed as of `as_of`, the
    time of files' eoffice.file.closed.v1 / eoffice.file.reopened.v1; `public_status` reads it.
    The two events come on two queues, so they may arrive out of order: one older than the state
    a receipt already has changes nothing (files takes each under the file's lock, so their times
    follow the order of what happened)."""
    session.execute(
        update(receipts)
        .where(
            receipts.c.file_id == file_id,
            receipts.c.status == "in_file",
            or_(receipts.c.file_closed_as_of.is_(None), receipts.c.file_closed_as_of < as_of),
        )
        .values(file_closed=closed, file_closed_as_of=as_of)
    )


def copies_sharing(session: Session, object_name: str) -> list[str]:
    """Returns the receipts that hold a document (an original and its copies)."""
    return list(
        session.execute(
            select(scans.c.receipt_id).where(scans.c.object_name == object_name).order_by(scans.c.id)
        ).scalars()
    )


def unreferenced(session: Session, object_names: list[str]) -> list[str]:
    """Returns those of `object_names` that no receipt holds."""
    held_names = (
        set(session.execute(select(scans.c.object_name).where(scans.c.object_name.in_(object_names))).scalars())
        if object_names
        else set()
    )
    return [name for name in object_names if name not in held_names]
