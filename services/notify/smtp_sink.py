"""A loopback SMTP server that keeps every message it receives as a file: the mail server of
the demo and of tests (nothing leaves the machine).

    python -m services.notify.smtp_sink [--port 8025] [--dir /var/lib/eoffice/mail]
                                        [--tls-cert C --tls-key K] [--user U --password P]

Each message is written to DIR/new/<time>-<n>.eml (written to DIR/tmp first, then renamed, so
a reader never sees half a message). With a certificate it offers STARTTLS; with a user it
requires AUTH (PLAIN or LOGIN) after STARTTLS. It listens on 127.0.0.1 only."""

from __future__ import annotations

import argparse
import itertools
import os
import ssl
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class MailDirectory:
    """aiosmtpd handler: stores each message in `directory`; `messages()` reads them back."""

    _serial = itertools.count(1)

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        for sub in ("tmp", "new"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True, mode=0o750)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
        name = f"{time.time_ns()}-{os.getpid()}-{next(self._serial)}.eml"
        header = f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        (self.directory / "tmp" / name).write_bytes(header + envelope.original_content)
        os.replace(self.directory / "tmp" / name, self.directory / "new" / name)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted((self.directory / "new").glob("*.eml"))
        ]


def sink(
    directory: str | Path, *, port: int, tls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None
) -> tuple[Controller, MailDirectory]:
    """Returns a started SMTP server on 127.0.0.1:`port` storing into `directory`, and its store."""
    store = MailDirectory(directory)

    def authenticate(server, session, envelope, mechanism, data):  # noqa: PLR0917  (aiosmtpd calls it so)
        ok = (
            isinstance(data, LoginPassword)
            and login is not None
            and (data.login.decode(), data.password.decode()) == login
        )
        return AuthResult(success=ok, handled=False)

    options: dict = {"tls_context": tls, "require_starttls": tls is not None}
    if login is not None:
        options |= {"authenticator": authenticate, "auth_required": True, "auth_require_tls": tls is not None}
    controller = Controller(store, hostname="127.0.0.1", port=port, ready_timeout=10, **options)
    controller.start()
    return controller, store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EOFFICE_SMTP_PORT", "8025")))
    parser.add_argument("--dir", default=os.environ.get("EOFFICE_SMTP_SINK_DIR", "/var/lib/eoffice/mail"))
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--user")
    parser.add_argument("--password", default=os.environ.get("EOFFICE_SMTP_PASSWORD"))
    args = parser.parse_args(argv)
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    controller, _ = sink(
        args.dir, port=args.port, tls=tls, login=(args.user, args.password or "") if args.user else None
    )
    print(f"SMTP sink on 127.0.0.1:{args.port}, storing in {args.dir}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
