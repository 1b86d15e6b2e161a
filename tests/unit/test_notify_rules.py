"""Notifying people, without infrastructure: what an event means for whom, who gets which
e-mail or SMS, quiet hours, the daily reminders and escalation, and the texts."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

from eoffice.contracts.notifications import KINDS, Preferences
from eoffice.workdays import add_working_days
from services.notify import templates
from services.notify.inbox import apply_event, plan_messages, quiet_until
from services.notify.reminders import Calendar, reminders_for

SENT = "eoffice.file.sent.v1"
FILE = "f" * 36


def sent(to_post, from_post, due="2026-04-10"):
    return {"file_id": FILE, "file_number": "N-1/2026", "by_user": "E1", "from_post": from_post, "to_post": to_post,
            "due_date": due}


def test_a_file_arrives_then_comes_back():
    where, notices = apply_event("eoffice.file.created.v1", {"file_id": FILE, "file_number": "N-1/2026",
                                                             "office_code": "O", "subject": "s", "creator_post": "A",
                                                             "by_user": "E1"}, known=None)
    assert notices == [] and where.holder_post == "A"
    where, notices = apply_event(SENT, sent("B", "A"), known=where)
    assert [(n.post_code, n.kind) for n in notices] == [("B", "arrived")]
    assert where.holder_post == "B" and where.due_date == date(2026, 4, 10)
    where, notices = apply_event(SENT, sent("A", "B"), known=where)
    assert [(n.post_code, n.kind) for n in notices] == [("A", "returned")]


def test_pulled_back_tells_the_post_that_lost_it_and_closing_ends_reminders():
    where, _ = apply_event(SENT, sent("B", "A"), known=None)
    where, notices = apply_event("eoffice.file.pulled-back.v1", {**sent("A", "B"), "due_date": None}, known=where)
    assert [(n.post_code, n.kind, n.detail["to_post"]) for n in notices] == [("B", "pulled_back", "A")]
    assert where.holder_post == "A"
    where, notices = apply_event("eoffice.file.closed.v1", {**sent("A", "A"), "due_date": None}, known=where)
    assert notices == [] and where.status == "done"


def test_messages_follow_each_holders_choices():
    _, (notice,) = apply_event(SENT, sent("B", "A"), known=None)
    holders = [{"employee_id": "E1", "via": "posting"}, {"employee_id": "E2", "via": "delegation"},
               {"employee_id": "E3", "via": "posting"}, {"employee_id": "E1", "via": "delegation"}]
    contacts = {e: {"email": f"{e}@x.in", "mobile": "9876543210"} for e in ("E1", "E2", "E3")}
    prefs = {"E2": Preferences(digest=True, channels=["in_app", "email", "sms"], language="en"),
             "E3": Preferences(kinds=["overdue"])}
    now = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)
    planned = plan_messages(notice=notice, holders=holders, contacts=contacts, preferences=prefs, now=now)
    assert sorted((m["employee_id"], m["channel"], m["status"], m["language"]) for m in planned) == [
        ("E1", "email", "pending", "hi"), ("E2", "email", "digest", "en"), ("E2", "sms", "pending", "en")]


def test_quiet_hours_hold_messages_until_they_end():
    night = Preferences(quiet_from=time(20), quiet_to=time(8))
    late = datetime(2026, 4, 1, 16, 0, tzinfo=UTC)  # 21:30 in India
    assert quiet_until(late, night).isoformat() == "2026-04-02T08:00:00+05:30"
    noon = datetime(2026, 4, 1, 6, 30, tzinfo=UTC)  # 12:00 in India
    assert quiet_until(noon, night) == noon


def test_reminder_then_escalation_each_once_on_working_days():
    calendar = Calendar(frozenset({"SUN"}), frozenset({date(2026, 4, 14)}))
    item = {"item_id": FILE, "item_type": "file", "number": "N-1/2026", "holder_post": "B",
            "due_date": date(2026, 4, 10)}
    sent_log: dict = {}

    def run(day):
        found = reminders_for(day=day, items=[item], calendars={"B": calendar}, sent=sent_log,
                              supervisors={"B": "C"}, escalate_after=3)
        for r in found:
            sent_log[(FILE, "B", item["due_date"], r.stage)] = day
        return [(r.stage, r.notice.post_code) for r in found]

    assert run(date(2026, 4, 10)) == [("due", "B")]
    assert run(date(2026, 4, 10)) == []
    assert run(date(2026, 4, 12)) == []  # a Sunday: nothing
    assert run(date(2026, 4, 11)) == [("reminder", "B")]
    escalation_day = add_working_days(date(2026, 4, 11), 3, weekly_off=calendar.weekly_off,
                                      holidays=calendar.holidays)
    assert escalation_day == date(2026, 4, 16)  # past Sunday and the holiday
    assert run(date(2026, 4, 15)) == []
    assert run(escalation_day) == [("escalation", "C")]
    assert run(escalation_day) == []


def test_every_kind_has_a_text_in_hindi_and_english():
    for kind in KINDS:
        detail = {"from_post": "A", "to_post": "B", "due_date": "2026-04-10", "holder_post": "B", "days": 3}
        hindi = templates.line(kind, "hi", item_type="file", number="N-1", post="B", detail=detail)
        english = templates.line(kind, "en", item_type="file", number="N-1", post="B", detail=detail)
        assert "फ़ाइल N-1" in hindi and english.startswith("File N-1"), kind
    subject, body = templates.email(kind="arrived", language="hi", name="राम", item_type="receipt", number="D-7",
                                    post="B", detail={})
    assert subject.startswith("ई-ऑफिस") and "प्रिय राम" in body and "- से B" in body  # a missing field reads "-"
    assert "http" not in body  # no public URL set: no link
    link = templates.link_to("https://eoffice.up.gov.in/", "receipt", "R-1")
    assert link == "https://eoffice.up.gov.in/#/receipts/R-1" and templates.link_to("", "receipt", "R-1") == ""
    _, body = templates.email(kind="arrived", language="en", name="Ram", item_type="receipt", number="D-7",
                              post="B", detail={}, link=link)
    assert "Open it: https://eoffice.up.gov.in/#/receipts/R-1" in body


def test_the_letter_email_names_the_enclosure_inside_the_pdf_only_when_there_is_one():
    """An issued letter's enclosure is inside its signed PDF, not a second attachment: the e-mail
    says so, naming it, in Hindi and English; a letter without one says nothing of it."""
    subject, body = templates.letter(subject="Water supply", number="D-7/2026/GAD", office="GAD",
                                     enclosure="अनुलग्नक-क Annexure A.pdf")
    assert subject == "Water supply / पत्र D-7/2026/GAD"
    assert body.splitlines() == [
        "GAD का पत्र क्रमांक D-7/2026/GAD डिजिटल हस्ताक्षर सहित संलग्न है।",
        'इसका संलग्नक, "अनुलग्नक-क Annexure A.pdf", इसी पीडीएफ़ के भीतर है: पीडीएफ़ की संलग्न फ़ाइलें (अटैचमेंट) खोलें।',
        "",
        "Please find attached letter D-7/2026/GAD of GAD, signed digitally.",
        'Its enclosure, "अनुलग्नक-क Annexure A.pdf", is inside the PDF: open the PDF\'s attachments.',
    ]
    for none in (None, ""):
        _, plain = templates.letter(subject="Water supply", number="D-7/2026/GAD", office="GAD", enclosure=none)
        assert plain == ("GAD का पत्र क्रमांक D-7/2026/GAD डिजिटल हस्ताक्षर सहित संलग्न है।\n\n"
                         "Please find attached letter D-7/2026/GAD of GAD, signed digitally.\n")
        assert "संलग्नक," not in plain and "enclosure" not in plain.lower()


def test_an_event_arriving_late_tells_but_does_not_move_the_item_back():
    created = {"file_id": FILE, "file_number": "N-1/2026", "office_code": "O", "subject": "s", "creator_post": "A",
               "by_user": "E1"}
    early, late = datetime(2026, 4, 1, 5, 0, tzinfo=UTC), datetime(2026, 4, 1, 5, 1, tzinfo=UTC)
    where, _ = apply_event(SENT, sent("B", "A"), known=None, at=late)
    where, notices = apply_event("eoffice.file.created.v1", created, known=where, at=early)  # handled second
    assert where.holder_post == "B" and where.as_of == late and notices == []
