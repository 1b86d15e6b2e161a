"""Every text notify sends people, in Hindi and English, in one place: the line that says what
happened (in-app, e-mail, SMS), the e-mail subject, the daily digest and the letter dispatch.

An SMS uses the same line as the e-mail, so each kind has exactly one text per language: that
text is what is registered with the SMS gateway under the kind's template ID
(EOFFICE_SMS_TEMPLATE_IDS)."""

from __future__ import annotations

from eoffice.contracts.notifications import KINDS

ITEMS = {
    "en": {"receipt": "Receipt", "file": "File"},
    "hi": {"receipt": "प्राप्ति", "file": "फ़ाइल"},
}

LINES: dict[str, dict[str, str]] = {
    "en": {
        "arrived": "{item} {number} has arrived at {post} from {from_post}.",
        "returned": "{item} {number} has come back to {post} from {from_post}.",
        "pulled_back": "{item} {number} was pulled back from {post} by {to_post}.",
        "due": "{item} {number} with {post} is due today ({due_date}).",
        "overdue": "{item} {number} with {post} was due on {due_date} and is overdue.",
        "escalated": "{item} {number} with {holder_post} was due on {due_date} and is {days} working days overdue.",
        "signed": "{item} {number}: a draft was signed by {from_post}.",
        "issued": "{item} {number}: letter {letter_number} was issued by {from_post}.",
        "skipped": "{item} {number} went past {post} from {from_post} to {to_post}.",
    },
    "hi": {
        "arrived": "{item} {number} {from_post} से {post} पर प्राप्त हुई।",
        "returned": "{item} {number} {from_post} से {post} पर वापस आई।",
        "pulled_back": "{item} {number} {to_post} द्वारा {post} से वापस ले ली गई।",
        "due": "{post} के पास {item} {number} की नियत तिथि आज ({due_date}) है।",
        "overdue": "{post} के पास {item} {number} की नियत तिथि {due_date} थी; यह अतिदेय है।",
        "escalated": "{holder_post} के पास {item} {number} की नियत तिथि {due_date} थी; यह {days} कार्य दिवस से अतिदेय है।",
        "signed": "{item} {number}: {from_post} द्वारा प्रारूप पर हस्ताक्षर किए गए।",
        "issued": "{item} {number}: {from_post} द्वारा पत्र {letter_number} जारी किया गया।",
        "skipped": "{item} {number} {post} को छोड़कर {from_post} से {to_post} को भेजी गई।",
    },
}

SUBJECTS = {"en": "e-Office: {line}", "hi": "ई-ऑफिस: {line}"}
DIGEST_SUBJECTS = {"en": "e-Office: {count} notifications of {day}", "hi": "ई-ऑफिस: {day} की {count} सूचनाएँ"}
GREETINGS = {"en": "Dear {name},", "hi": "प्रिय {name},"}
FOOTERS = {
    "en": "Open e-Office to act on it. You can change what reaches you, and how, in your notification settings.",
    "hi": "कार्यवाही हेतु ई-ऑफिस खोलें। कौन सी सूचनाएँ और कैसे मिलें, यह आप सूचना सेटिंग में बदल सकते हैं।",
}


class _Blank(dict):
    """Fields a template names but the event did not carry read as "-", never a KeyError."""

    def __missing__(self, key: str) -> str:
        return "-"


assert all(set(LINES[lang]) == set(KINDS) for lang in LINES), "a text for every kind, in each language"


def line(kind: str, language: str, *, item_type: str, number: str, post: str, detail: dict) -> str:
    """Returns the one line saying what happened, in `language` (English for anything else)."""
    lang = language if language in LINES else "en"
    fields = _Blank({k: v for k, v in detail.items() if v not in (None, "")})
    fields.update(item=ITEMS[lang].get(item_type, item_type), number=number or "-", post=post)
    return LINES[lang][kind].format_map(fields)


OPEN = {"en": "Open it: {link}", "hi": "खोलें: {link}"}
ROUTES = {"receipt": "receipts", "file": "files"}  # the web client's screens (#/files/ID)


def link_to(public_url: str, item_type: str, item_id: str | None) -> str:
    """The web client's address of the item, or "" (no public URL set, or no such screen)."""
    route = ROUTES.get(item_type)
    return f"{public_url.rstrip('/')}/#/{route}/{item_id}" if public_url and route and item_id else ""


def email(*, kind: str, language: str, name: str, item_type: str, number: str, post: str, detail: dict, link: str = ""):
    """Returns (subject, body) of the e-mail for one notification, with `link` to the item if given."""
    lang = language if language in LINES else "en"
    text = line(kind, lang, item_type=item_type, number=number, post=post, detail=detail)
    opening = [OPEN[lang].format(link=link)] if link else []
    body = "\n\n".join([GREETINGS[lang].format(name=name), text, *opening, FOOTERS[lang]])
    return SUBJECTS[lang].format(line=text), body + "\n"


def digest(*, language: str, name: str, day: str, lines: list[str]):
    """Returns (subject, body) of one person's daily digest listing `lines`."""
    lang = language if language in LINES else "en"
    listed = "\n".join(f"- {text}" for text in lines)
    body = "\n\n".join([GREETINGS[lang].format(name=name), listed, FOOTERS[lang]])
    return DIGEST_SUBJECTS[lang].format(count=len(lines), day=day), body + "\n"


LETTER_SUBJECT = "{subject} / पत्र {number}"
LETTER_BODY = (
    "{office} का पत्र क्रमांक {number} डिजिटल हस्ताक्षर सहित संलग्न है।\n{enclosure_hi}\n"
    "Please find attached letter {number} of {office}, signed digitally.\n{enclosure_en}"
)
# A letter's enclosure travels inside its signed PDF (a PDF/A-3 associated file), not as a second
# attachment of the e-mail: the addressee is told where to look.
LETTER_ENCLOSURE = {
    "hi": 'इसका संलग्नक, "{name}", इसी पीडीएफ़ के भीतर है: पीडीएफ़ की संलग्न फ़ाइलें (अटैचमेंट) खोलें।\n',
    "en": 'Its enclosure, "{name}", is inside the PDF: open the PDF\'s attachments.\n',
}


def letter(*, subject: str, number: str, office: str, enclosure: str | None = None) -> tuple[str, str]:
    """Returns (subject, body) of the e-mail carrying an issued letter to an addressee, in Hindi
    and English (an addressee outside the system has no language preference); with the name of
    the `enclosure` the signed PDF carries, if it has one, and where to find it."""
    told = {lang: text.format(name=enclosure) if enclosure else "" for lang, text in LETTER_ENCLOSURE.items()}
    body = LETTER_BODY.format(number=number, office=office, enclosure_hi=told["hi"], enclosure_en=told["en"])
    return LETTER_SUBJECT.format(subject=subject, number=number), body


FAILING_SUBJECT = "e-Office: portal subscription {name} is failing / पोर्टल सदस्यता {name} विफल हो रही है"
FAILING_BODY = (
    "Deliveries to the portal subscription {name} ({subscription_id}) have failed {failures} times in a row "
    "since {since}. Last error: {last_error}\n"
    "They are retried until they reach the dead-letter list; the subscription's delivery log and "
    "dead letters are under /api/v1/subscriptions/{subscription_id}.\n\n"
    "पोर्टल सदस्यता {name} ({subscription_id}) पर भेजना {since} से लगातार {failures} बार विफल हुआ है। "
    "अंतिम त्रुटि: {last_error}\n"
)


def subscription_failing(**fields) -> tuple[str, str]:
    """Returns (subject, body) of the alert to the admin of a portal subscription that keeps
    failing, in English and Hindi."""
    return FAILING_SUBJECT.format(**fields), FAILING_BODY.format(**fields)
