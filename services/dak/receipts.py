"""Receipts: diarising with a gap-free diary number, sending to posts, the inbox of a post.

Work belongs to posts: a receipt is held by a post, not a person, so when the post changes
hands its pending receipts are the new holder's at once."""
from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eoffice.actor import Actor
from eoffice.errors import Conflict, InvalidInput, NotCurrentHolder, NotFound
from eoffice.paging import keyset_page
from services.dak.models import diary_counters, movements, receipts
from services.dak.schemas import Diarise


def next_serial(session: Session, office_code: str, year: int) -> int:
    """Takes the next diary serial of an office's year. The counter row stays locked until the
    caller's transaction ends: a rollback gives the number back, so numbers have no gaps."""
    session.execute(insert(diary_counters).values(office_code=office_code, year=year, last_serial=0)
                    .on_conflict_do_nothing())
    return session.execute(update(diary_counters)
                           .where(diary_counters.c.office_code == office_code, diary_counters.c.year == year)
                           .values(last_serial=diary_counters.c.last_serial + 1)
                           .returning(diary_counters.c.last_serial)).scalar_one()


def diarise(session: Session, actor: Actor, letter: Diarise, idempotency_key: str) -> dict:
    """Records a receipt in the actor's office, held by the actor's post; returns it."""
    year = letter.received_date.year
    serial = next_serial(session, actor.office_id, year)
    row = {"id": str(uuid.uuid4()), "diary_number": f"{serial}/{year}/{actor.office_id}",
           "office_code": actor.office_id, "year": year, "serial": serial, "holder_post": actor.post_id,
           "diarised_by": actor.user_id, "idempotency_key": idempotency_key, "opened": True,
           **letter.model_dump()}
    session.execute(receipts.insert().values(**row))
    session.execute(movements.insert().values(receipt_id=row["id"], action="diarised", to_post=actor.post_id,
                                              by_user=actor.user_id))
    return dict(session.execute(select(receipts).where(receipts.c.id == row["id"])).mappings().one())


def by_idempotency_key(session: Session, key: str) -> dict:
    """Returns the receipt an earlier diarisation with this key made."""
    return dict(session.execute(select(receipts).where(receipts.c.idempotency_key == key)).mappings().one())


def acting_posts(actor: Actor) -> set[str]:
    return {actor.post_id, *actor.delegated_posts}


def held(session: Session, actor: Actor, receipt_id: str) -> dict:
    """Returns the receipt if the actor's post (or a post delegated to it) holds it; raises
    NotFound when there is no such receipt, NotCurrentHolder when another post holds it."""
    row = session.execute(select(receipts).where(receipts.c.id == receipt_id).with_for_update()).mappings().first()
    if row is None:
        raise NotFound(f"no receipt {receipt_id}")
    if row["holder_post"] not in acting_posts(actor):
        raise NotCurrentHolder(f"receipt {row['diary_number']} is with {row['holder_post']}")
    return dict(row)


def send(session: Session, actor: Actor, receipt_id: str, to_post: str, remarks: str) -> dict:
    """Moves the receipt to another post and logs the movement; returns the movement. A
    physical receipt must have been received by its holder first."""
    row = held(session, actor, receipt_id)
    if row["physical"] and not row["opened"]:
        raise Conflict(f"receipt {row['diary_number']} is physical: receive it before acting on it")
    if to_post == row["holder_post"]:
        raise InvalidInput(f"receipt {row['diary_number']} is already with {to_post}", field="to_post")
    session.execute(update(receipts).where(receipts.c.id == receipt_id).values(holder_post=to_post, opened=False))
    movement = {"receipt_id": receipt_id, "action": "sent", "from_post": row["holder_post"], "to_post": to_post,
                "by_user": actor.user_id, "remarks": remarks}
    session.execute(movements.insert().values(**movement))
    return {**movement, "diary_number": row["diary_number"]}


def open_receipt(session: Session, actor: Actor, receipt_id: str) -> dict:
    """Returns the receipt with its movements. When its holder opens it, it counts as opened
    (received, for a physical one) and can no longer be pulled back. Others who moved it may
    look without opening it; anyone else gets NotFound."""
    row = session.execute(select(receipts).where(receipts.c.id == receipt_id).with_for_update()).mappings().first()
    history = [dict(m) for m in session.execute(select(movements).where(movements.c.receipt_id == receipt_id)
                                                 .order_by(movements.c.id)).mappings()]
    posts = acting_posts(actor)
    if row is None or not (row["holder_post"] in posts or any(m["from_post"] in posts or m["to_post"] in posts
                                                              for m in history)):
        raise NotFound(f"no receipt {receipt_id}")
    row = dict(row)
    if row["holder_post"] in posts and not row["opened"]:
        session.execute(update(receipts).where(receipts.c.id == receipt_id).values(opened=True))
        action = "received" if row["physical"] else "opened"
        session.execute(movements.insert().values(receipt_id=receipt_id, action=action, to_post=row["holder_post"],
                                                  by_user=actor.user_id))
        row["opened"] = True
        history.append({"action": action, "to_post": row["holder_post"], "by_user": actor.user_id})
    return {**row, "movements": history}


def pull_back(session: Session, actor: Actor, receipt_id: str) -> dict:
    """Takes back a receipt the actor's post sent, while the recipient has not opened it."""
    row = session.execute(select(receipts).where(receipts.c.id == receipt_id).with_for_update()).mappings().first()
    last = session.execute(select(movements).where(movements.c.receipt_id == receipt_id, movements.c.action == "sent")
                           .order_by(movements.c.id.desc()).limit(1)).mappings().first()
    if row is None or last is None or last["from_post"] not in acting_posts(actor):
        raise NotFound(f"no receipt {receipt_id} sent by you")
    if row["holder_post"] != last["to_post"]:
        raise Conflict(f"receipt {row['diary_number']} has moved on from {last['to_post']}")
    if row["opened"]:
        raise Conflict(f"{last['to_post']} has already opened receipt {row['diary_number']}")
    session.execute(update(receipts).where(receipts.c.id == receipt_id)
                    .values(holder_post=last["from_post"], opened=True))
    movement = {"receipt_id": receipt_id, "action": "pulled_back", "from_post": last["to_post"],
                "to_post": last["from_post"], "by_user": actor.user_id, "remarks": ""}
    session.execute(movements.insert().values(**movement))
    return {**movement, "diary_number": row["diary_number"]}


def inbox(session: Session, actor: Actor, after: str | None, limit: int) -> dict:
    """Returns the receipts pending with the actor's post and the posts delegated to it."""
    query = select(receipts).where(receipts.c.holder_post.in_(acting_posts(actor)))
    return keyset_page(session, query, receipts.c.id, after, limit)
