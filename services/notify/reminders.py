"""The daily reminders, as a plain function: which receipts and files are due or past their
time limit on a day, by the calendar of the office of the post holding them, and what to send.

- on the due date: `due` to the holder;
- on the first working day after it: `overdue` to the holder (the reminder);
- `escalate_after` working days after the reminder, still not moved: `escalated` to the post
  supervising the holder.

Each stage goes once per item, holder and due date (the service records what it sent), so
running the job twice in a day, or on a day it already ran, sends nothing twice. Nothing is
sent on a day the holder's office does not work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from eoffice.workdays import is_working_day, working_days_between
from services.notify.inbox import Notice


@dataclass(frozen=True)
class Calendar:
    weekly_off: frozenset[str]
    holidays: frozenset[date]

    @classmethod
    def from_directory(cls, answer: dict) -> Calendar:
        """From one entry of directory's `calendars_of_posts`."""
        return cls(frozenset(answer["weekly_off"]), frozenset(date.fromisoformat(d) for d in answer["holidays"]))


@dataclass(frozen=True)
class Reminder:
    stage: str  # due, reminder, escalation
    notice: Notice
    holder_post: str  # whose item it is (the record is kept per holder)
    due_date: date


def reminders_for(
    *,
    day: date,
    items: list[dict],
    calendars: dict[str, Calendar],
    sent: dict[tuple, date],
    supervisors: dict[str, str | None],
    escalate_after: int,
) -> list[Reminder]:
    """Returns what to send on `day` about `items` (open, with a due date and a holder:
    `item_id`, `item_type`, `number`, `holder_post`, `due_date`).

    `calendars`: each holder post's office calendar; `sent`: (item_id, post, due_date, stage)
    -> the day it was sent; `supervisors`: each holder post's supervising post (or None)."""
    found = []
    for item in items:
        post, due = item["holder_post"], item["due_date"]
        calendar = calendars.get(post)
        if calendar is None or not is_working_day(day, calendar.weekly_off, calendar.holidays):
            continue
        key = (item["item_id"], post, due)
        detail = {"due_date": due.isoformat(), "holder_post": post}

        def make(
            stage: str,
            kind: str,
            *,
            to_post: str,
            extra: dict | None = None,
            item=item,
            detail=detail,
            due=due,
            post=post,
        ) -> Reminder:
            notice = Notice(
                to_post, kind, item["item_type"], item["item_id"], item["number"], {**detail, **(extra or {})}
            )
            return Reminder(stage, notice, post, due)

        if day == due and (*key, "due") not in sent:
            found.append(make("due", "due", to_post=post))
        if day <= due:
            continue
        reminded = sent.get((*key, "reminder"))
        if reminded is None:
            found.append(make("reminder", "overdue", to_post=post))
            continue
        late = working_days_between(reminded, day, weekly_off=calendar.weekly_off, holidays=calendar.holidays)
        supervisor = supervisors.get(post)
        if late >= escalate_after and supervisor and (*key, "escalation") not in sent:
            overdue = working_days_between(due, day, weekly_off=calendar.weekly_off, holidays=calendar.holidays)
            found.append(make("escalation", "escalated", to_post=supervisor, extra={"days": overdue}))
    return found
