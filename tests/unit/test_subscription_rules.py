"""Rules of portal subscriptions that need no infrastructure: which addresses a webhook may go
to, the signature headers, what a subscriber may see, and the retry schedule."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from eoffice.errors import InvalidInput
from eoffice.events import Envelope
from services.notify import subscriptions, webhooks


def resolver(table):
    return lambda host, port: table[host]


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        # IPv6 forms of IPv4 addresses that Python 3.11's `is_global` calls global:
        "::127.0.0.1",  # IPv4-compatible loopback
        "::10.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of the cloud metadata address
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "240.0.0.1",  # reserved
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(address):
    assert not webhooks.allowed(address, allow_loopback=False)
    with pytest.raises(InvalidInput) as refused:
        webhooks.check_url(
            "https://portal.example/hook", allow_loopback=False, resolver=resolver({"portal.example": [address]})
        )
    assert refused.value.fields["field"] == "url"


def test_port_zero_is_refused_not_taken_for_the_default():
    public = resolver({"portal.example": ["93.184.216.34"]})
    for url in ("https://portal.example:0/hook", "https://portal.example:99999/hook"):
        with pytest.raises(InvalidInput, match="port"):
            webhooks.check_url(url, allow_loopback=False, resolver=public)
    assert webhooks.check_url("https://portal.example:8443/hook", allow_loopback=False, resolver=public)


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    with pytest.raises(InvalidInput):
        webhooks.check_url(
            "https://portal.example/hook",
            allow_loopback=False,
            resolver=resolver({"portal.example": ["93.184.216.34", "10.0.0.1"]}),
        )


def test_public_https_is_allowed_and_loopback_only_in_test_mode():
    public = resolver({"portal.example": ["93.184.216.34"], "localhost": ["127.0.0.1"]})
    assert webhooks.check_url("https://portal.example/hook", allow_loopback=False, resolver=public)
    with pytest.raises(InvalidInput):
        webhooks.check_url("http://portal.example/hook", allow_loopback=False, resolver=public)  # https only
    with pytest.raises(InvalidInput):
        webhooks.check_url("http://localhost:8000/hook", allow_loopback=False, resolver=public)
    assert webhooks.check_url("http://localhost:8000/hook", allow_loopback=True, resolver=public)


def test_a_delivery_redirected_to_a_private_address_is_refused_without_sending():
    outcome = webhooks.deliver(
        "https://10.0.0.1/x",
        event_id="e",
        body="{}",
        secrets=[subscriptions.new_secret()],
        timeout=1,
        allow_loopback=False,
    )
    assert not outcome.ok and outcome.error.startswith("refused") and outcome.status is None


def test_a_checked_address_is_trusted_a_few_seconds_then_checked_again():
    answers, asked = {"portal.example": ["93.184.216.34"]}, []

    def resolver(host, port):
        asked.append(host)
        return answers[host]

    connections = webhooks.Connections(ttl=0.2)
    target = connections.target("https://portal.example/a", allow_loopback=False, resolver=resolver)
    assert target == ("https", "portal.example", 443, "93.184.216.34")
    assert connections.target("https://portal.example/b", allow_loopback=False, resolver=resolver) == target
    assert asked == ["portal.example"]  # the second delivery within the time did not look it up
    answers["portal.example"] = ["10.0.0.1"]  # the name now points inside
    time.sleep(0.25)
    with pytest.raises(webhooks.UnsafeAddress):
        connections.target("https://portal.example/a", allow_loopback=False, resolver=resolver)


def test_one_kept_alive_connection_carries_deliveries_and_a_closed_one_is_replaced():
    """A subscriber that answers over one connection, then closes it without saying so: the
    next delivery goes out on a new connection and arrives."""
    requests, peers = [], set()

    class Once(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_POST(self):
            self.rfile.read(int(self.headers["content-length"]))
            requests.append(self.path)
            peers.add(self.client_address)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()
            if self.path == "/close-after":
                self.close_connection = True  # hangs up, no "connection: close" sent

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Once)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    connections, secret = webhooks.Connections(), subscriptions.new_secret()
    try:

        def send(path):
            return webhooks.deliver(
                url + path,
                event_id="e",
                body="{}",
                secrets=[secret],
                timeout=5,
                allow_loopback=True,
                connections=connections,
            )

        assert send("/a").ok and send("/b").ok and len(peers) == 1  # one connection for both
        assert send("/close-after").ok
        time.sleep(0.1)
        assert send("/c").ok and len(peers) == 2
        assert requests == ["/a", "/b", "/close-after", "/c"]
    finally:
        connections.close()
        server.shutdown()


def test_signatures_verify_with_each_secret_during_an_overlap():
    old, new = subscriptions.new_secret(), subscriptions.new_secret()
    body = '{"id":"1"}'
    headers = webhooks.signature_headers(event_id="1", body=body, secrets=[new, old], now=datetime.now(UTC))
    assert Webhook(old).verify(body, headers) == Webhook(new).verify(body, headers) == {"id": "1"}


def envelope(kind: str, subject: str, **data) -> Envelope:
    return Envelope(source="eoffice/files", type=kind, subject=subject, data=data)


SUB = {"event_types": ["eoffice.file.*", "eoffice.receipt.*"], "offices": [], "note_text": False}


def test_receipts_not_known_to_be_normal_are_withheld_and_offices_filter():
    sent = envelope("eoffice.receipt.sent.v1", "r1", remarks="x")
    assert not subscriptions.may_see(SUB, sent, {})  # grading unknown
    assert not subscriptions.may_see(SUB, sent, {"r1": {"grading": "secret", "office_code": "A"}})
    assert subscriptions.may_see(SUB, sent, {"r1": {"grading": "normal", "office_code": "A"}})
    only_b = {**SUB, "offices": ["B"]}
    assert not subscriptions.may_see(only_b, sent, {"r1": {"grading": "normal", "office_code": "A"}})
    assert not subscriptions.may_see(
        {**SUB, "event_types": ["eoffice.file.sent.v1"]}, sent, {"r1": {"grading": "normal"}}
    )


def test_a_file_event_telling_of_a_receipt_travels_only_as_the_receipt_would():
    """A receipt joining a file's correspondence is told of with its diary number and subject."""
    added = envelope("eoffice.file.correspondence-added.v1", "f1", receipt_id="r1", title="1/2026: X")
    assert not subscriptions.may_see(SUB, added, {})  # the receipt's grading unknown
    assert not subscriptions.may_see(SUB, added, {"r1": {"grading": "secret"}})
    assert subscriptions.may_see(SUB, added, {"r1": {"grading": "normal"}})
    document = envelope("eoffice.file.correspondence-added.v1", "f1", receipt_id=None, title="Y")
    assert subscriptions.may_see(SUB, document, {})
    assert subscriptions.may_see(SUB, envelope("eoffice.file.sent.v1", "f1", receipt_id="r1"), {})


def test_text_travels_only_when_granted():
    sent = envelope("eoffice.file.sent.v1", "f1", remarks="confidential view", to_post="SO")
    assert '"remarks":""' in subscriptions.body_for(SUB, sent)
    assert "confidential view" in subscriptions.body_for({**SUB, "note_text": True}, sent)


def test_retries_back_off_exponentially_and_cover_a_day():
    policy = subscriptions.RetryPolicy(base=5, cap=3600, retry_for=25 * 3600, failing_after=10)
    delays = [policy.delay(n) for n in range(1, 40)]
    assert delays[0] <= 6 and delays[3] >= 30 and max(delays) <= 3600 * 1.2
    assert policy.retry_for >= 24 * 3600
