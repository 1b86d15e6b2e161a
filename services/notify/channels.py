"""The ways out to people: e-mail over SMTP and SMS through an HTTP bulk-SMS gateway.

Both are plain adapters built from the settings (eoffice/settings.py, EOFFICE_SMTP_*,
EOFFICE_SMS_*); a unit test hands in its own object with the same `send`."""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

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


class Mailer:
    """Sends e-mail through one SMTP server: STARTTLS first if EOFFICE_SMTP_STARTTLS, AUTH if a
    username is set (never AUTH over a connection that is not encrypted, unless the server is
    on loopback)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, *, to: list[str], subject: str, body: str, attachments: tuple[Attachment, ...] = ()) -> str:
        """Sends one message to `to`; returns its Message-ID. Raises DeliveryFailed."""
        s = self.settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.smtp_from, ", ".join(to), subject
        message["Message-ID"] = make_msgid(domain="eoffice")
        message.set_content(body, charset="utf-8")
        for attachment in attachments:
            main, _, sub = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.data, maintype=main, subtype=sub or "octet-stream", filename=attachment.filename
            )
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
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
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"every recipient refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            raise DeliveryFailed(f"refused: {refused}", permanent=True)
        return message["Message-ID"]


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
