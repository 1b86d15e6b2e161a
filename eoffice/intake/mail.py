"""Step: reading a saved e-mail (.eml): who sent it, about what, when, its text, and its
attached files, each to go through the scan steps on its own. What becomes of those fields
(a receipt's sender and subject) is the receiving service's business (dak)."""

from __future__ import annotations

import email
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from html import unescape
from pathlib import PurePosixPath

from eoffice.intake.base import Document, EmailSummary, Step, refuse
from eoffice.intake.kind import NAMES, sniff
from eoffice.validation import FILE_NAME_MAX


class ReadEmail(Step):
    """Sets `summary` and `attachments` (name, bytes); refuses a file that is not an e-mail,
    or an e-mail with neither text nor attachments."""

    heavy = True  # decoding attachments of a 20 MiB message takes a while

    def check(self, document: Document) -> Document:
        message = email.message_from_bytes(document.data, policy=policy.default)
        if message["From"] is None:
            looks_like = sniff(document.data)
            raise refuse(
                document,
                "is not an e-mail (.eml) file" + (f"; it is {NAMES.get(looks_like, looks_like)}" if looks_like else ""),
            )
        sender = message["From"].addresses
        date = message["Date"]
        summary = EmailSummary(
            from_name=sender[0].display_name if sender else "",
            from_address=sender[0].addr_spec if sender else str(message["From"]),
            subject=str(message["Subject"] or ""),
            date=date.datetime if date is not None else None,
            body_text=_body_text(message),
        )
        files = tuple(
            (_attachment_name(part, n), _attachment_bytes(part)) for n, part in enumerate(_attached(message), 1)
        )
        if not files and not summary.body_text.strip():
            raise refuse(document, "is an e-mail with neither a message nor attachments")
        return replace(document, content_type="message/rfc822", summary=summary, attachments=files)


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        text = body.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = body.get_payload(decode=True)  # bytes for a leaf part; the body is one
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return _html_text(text) if body.get_content_subtype() == "html" else text


def _html_text(html: str) -> str:
    """Crude HTML to text: enough to read an e-mail's words, not its layout."""
    html = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", html)
    html = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|table)\s*>", "\n", html)
    text = unescape(re.sub(r"<[^>]*>", " ", html))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _attached(message: EmailMessage) -> Iterator[EmailMessage]:
    """The attached parts, those of nested multipart/mixed parts included (some mailers nest them)."""
    for part in message.iter_attachments():
        if part.get_content_type() == "multipart/mixed":
            yield from _attached(part)
        elif part.get_content_type() == "message/rfc822" or not part.is_multipart():
            yield part


def _attachment_bytes(part: EmailMessage) -> bytes:
    if part.get_content_type() == "message/rfc822":  # a forwarded e-mail: keep it as an .eml
        return part.get_content().as_bytes(policy=policy.default)
    payload = part.get_payload(decode=True)  # bytes for a leaf part, None for a multipart one
    return payload if isinstance(payload, bytes) else b""


def _attachment_name(part: EmailMessage, n: int) -> str:
    """The attachment's own name with any folders and control characters taken out (it is stored
    under this name), else a made-up one."""
    name = PurePosixPath((part.get_filename() or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip(" .")
    if len(name) > FILE_NAME_MAX:  # the sender named it, the clerk cannot rename it: cut, keeping its type
        suffix = PurePosixPath(name).suffix if len(PurePosixPath(name).suffix) <= 10 else ""
        name = name[: FILE_NAME_MAX - len(suffix)] + suffix
    if name:
        return name
    content_type = part.get_content_type()
    suffix = ".eml" if content_type == "message/rfc822" else mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{n}{suffix}"
