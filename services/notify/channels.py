"""The ways out to people: e-mail over SMTP and SMS through an HTTP bulk-SMS gateway.

Both are plain adapters built from the settings (eoffice/settings.py, EOFFICE_SMTP_*,
EOFFICE_SMS_*); a unit test hands in its own object with the same `send`."""

from __future__ import annotations

import contextlib
import json
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid, parseaddr

import urllib3

from eoffice.settings import Settings


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. application/pdf
    data: bytes


class DeliveryFailed(Exception):
    """The channel refused or could not take the message; `permanent` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


# Messages sent over one kept-open SMTP connection before it is closed and another opened: some
# servers refuse more than a few dozen on one connection (and would fail the next message).
MESSAGES_PER_CONNECTION = 20


class Mailer:
    """Sends e-mail through one SMTP server: STARTTLS first if EOFFICE_SMTP_STARTTLS, AUTH if a
    username is set (never AUTH over a connection that is not encrypted, unless the server is
    on loopback)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._kept: smtplib.SMTP | None = None  # the open connection inside `kept_open`
        self._keeping = False
        self._sent_on_kept = 0

    @contextlib.contextmanager
    def kept_open(self) -> Iterator[Mailer]:
        """Sends the block's messages on one SMTP connection (opened at the first send, closed
        at the end), not one connection, EHLO, STARTTLS and AUTH each: the sender's round of up
        to 20 messages. A message that fails drops the connection and the next one opens a new
        one; a failure is never retried on another connection here (the server may have taken
        it): it is retried later like any failed message."""
        self._keeping = True
        try:
            yield self
        finally:
            self._keeping = False
            self._drop(polite=True)

    def _drop(self, *, polite: bool = False) -> None:
        smtp, self._kept = self._kept, None
        if smtp is not None:
            _close(smtp, polite=polite)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=s.smtp_ca_file))
                smtp.ehlo()
            if s.smtp_username:
                if not s.smtp_starttls and s.smtp_host not in ("127.0.0.1", "localhost", "::1"):
                    raise DeliveryFailed(
                        "refusing to send the SMTP password unencrypted: set EOFFICE_SMTP_STARTTLS", permanent=True
                    )
                smtp.login(s.smtp_username, s.smtp_password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, *, to: list[str], subject: str, body: str, attachments: tuple[Attachment, ...] = ()) -> str:
        """Sends one message to `to`; returns its Message-ID. Raises DeliveryFailed."""
        message = compose(sender=self.settings.smtp_from, to=to, subject=subject, body=body, attachments=attachments)
        try:
            if self._kept is not None and self._sent_on_kept >= MESSAGES_PER_CONNECTION:
                self._drop(polite=True)
            smtp = self._kept or self._connect()
            if self._keeping and self._kept is None:
                self._kept, self._sent_on_kept = smtp, 0
            try:
                self._sent_on_kept += 1
                refused = smtp.send_message(message)
            finally:
                if not self._keeping:
                    _close(smtp, polite=True)
        except smtplib.SMTPRecipientsRefused as exc:  # smtplib sent RSET: the connection carries on
            raise DeliveryFailed(f"every recipient refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            self._drop()
            raise
        if refused:
            raise DeliveryFailed(f"refused: {refused}", permanent=True)
        return message["Message-ID"]


def compose(
    *, sender: str, to: list[str], subject: str, body: str, attachments: tuple[Attachment, ...] = ()
) -> Message:
    """The e-mail: UTF-8 text (base64), the subject encoded for any mail reader (RFC 2047), each
    attachment under its file name (RFC 2231 when not ASCII). Built with the standard library's
    classic classes: the `EmailMessage` API parses every header it is given back into objects,
    and cost five times as much a message (0.5 ms against 0.1 ms), a tenth of notify's CPU on a
    movement (docs/benchmarks.md, "built once")."""
    text = MIMEText(body, "plain", "utf-8")
    message: Message = text
    if attachments:
        message = MIMEMultipart()
        message.attach(text)
        for attachment in attachments:
            main, _, sub = attachment.content_type.partition("/")
            part = MIMEBase(main, sub or "octet-stream")
            part.set_payload(attachment.data)
            encoders.encode_base64(part)
            name = attachment.filename
            part.add_header(
                "Content-Disposition", "attachment", filename=name if name.isascii() else ("utf-8", "", name)
            )
            message.attach(part)
    message["From"], message["To"] = formataddr(parseaddr(sender)), ", ".join(to)  # a name in any script
    message["Subject"] = Header(subject, "utf-8")
    message["Message-ID"] = make_msgid(domain="eoffice")
    return message


def _close(smtp: smtplib.SMTP, *, polite: bool) -> None:
    """Closes an SMTP connection: QUIT first if `polite` (it is fine), else at once."""
    try:
        if polite:
            smtp.quit()
        else:
            smtp.close()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class SmsGateway:
    """Sends SMS through an HTTP gateway: EOFFICE_SMS_URL with EOFFICE_SMS_PARAMS, where
    "{mobile}", "{text}" and "{template_id}" are filled in. Indian gateways deliver only texts
    registered (DLT) under a template ID, one per message kind: EOFFICE_SMS_TEMPLATE_IDS."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.params = json.loads(settings.sms_params)
        self.template_ids: dict[str, str] = json.loads(settings.sms_template_ids)
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5, read=15), retries=False)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.sms_url)

    def send(self, *, mobile: str, text: str, kind: str) -> str:
        """Sends `text` (the registered text of `kind`) to `mobile`; returns the gateway's
        answer. Raises DeliveryFailed, permanent for a kind with no registered template."""
        template_id = self.template_ids.get(kind)
        if not template_id:
            raise DeliveryFailed(f"no SMS template ID registered for {kind!r}", permanent=True)
        values = {"mobile": mobile, "text": text, "template_id": template_id}
        fields = {
            name: str(value)
            .replace("{mobile}", values["mobile"])
            .replace("{template_id}", template_id)
            .replace("{text}", values["text"])
            for name, value in self.params.items()
        }
        method = self.settings.sms_method.upper()
        try:
            if method == "GET":
                response = self.http.request("GET", self.settings.sms_url, fields=fields)
            else:
                response = self.http.request_encode_body(
                    "POST", self.settings.sms_url, fields=fields, encode_multipart=False
                )
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        answer = response.data[:500].decode(errors="replace")
        if response.status >= 500:
            raise DeliveryFailed(f"gateway answered {response.status}: {answer}")
        if response.status >= 400:
            raise DeliveryFailed(f"gateway refused ({response.status}): {answer}", permanent=True)
        return answer
