"""How a webhook delivery reads the subscriber's answer, against a local server that answers
with bytes written out by hand: the answers portals really give (a length, chunks, a body ended
by closing), answers that are too big, too slow or not HTTP, and URLs that could smuggle a header."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from eoffice.errors import InvalidInput
from services.notify import subscriptions, webhooks


class Scripted:
    """A loopback server: for each connection, reads one request and sends `answers[path]`
    (the raw bytes), then keeps the connection open for the next request unless told to
    close. Records which connection each request came on."""

    def __init__(self, answers: dict[str, tuple[bytes, str]]):
        self.answers, self.requests = answers, []  # path -> (bytes, "keep" | "close" | "stall")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection, self.connections), daemon=True).start()

    def _serve(self, connection: socket.socket, number: int):
        with connection:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:])
                length = int(headers["content-length"])
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                buffer = buffer[length:]
                path = lines[0].split(" ")[1]
                self.requests.append((path, number, headers))
                answer, then = self.answers[path]
                try:
                    connection.sendall(answer)
                except OSError:
                    return
                if then == "close":
                    return
                if then == "stall":
                    time.sleep(3)
                    return

    def close(self):
        self.listener.close()


@pytest.fixture
def portal():
    servers = []

    def make(answers):
        servers.append(Scripted(answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def connections():
    """What one subscription's worker keeps between deliveries; hung up after the test."""
    kept = webhooks.Connections()
    yield kept
    kept.close()


def send(url: str, connections: webhooks.Connections, timeout: float = 2.0) -> webhooks.Outcome:
    return webhooks.deliver(
        url,
        event_id="evt-1",
        body='{"id":"evt-1"}',
        secrets=[subscriptions.new_secret()],
        timeout=timeout,
        allow_loopback=True,
        connections=connections,
    )


def test_answers_with_a_length_or_in_chunks_keep_the_connection_and_the_request_is_signed(portal, connections):
    server = portal(
        {
            "/length": (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", "keep"),
            "/chunks": (b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "keep"),
        }
    )
    first, second = send(server.url("/length"), connections), send(server.url("/chunks"), connections)
    third = send(server.url("/length"), connections)
    assert (first.ok, first.status, second.ok, second.status, third.ok) == (True, 200, True, 202, True)
    assert [number for _, number, _ in server.requests] == [1, 1, 1]  # one connection for all three
    headers = server.requests[0][2]
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["webhook-id"] == "evt-1" and headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"].startswith("application/cloudevents+json")


def test_a_body_ended_by_closing_counts_and_the_next_delivery_opens_a_new_connection(portal, connections):
    server = portal({"/old": (b"HTTP/1.0 200 OK\r\n\r\nfine, closing now", "close")})
    outcomes = [send(server.url("/old"), connections) for _ in range(2)]
    assert [(o.ok, o.status) for o in outcomes] == [(True, 200), (True, 200)]
    assert [number for _, number, _ in server.requests] == [1, 2]


def test_a_huge_or_endless_answer_is_cut_off_and_its_status_kept(portal, connections):
    endless = b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\n" + b"x" * 200_000
    server = portal({"/huge": (endless, "stall")})
    started = time.monotonic()
    outcome = send(server.url("/huge"), connections, timeout=5)
    assert (outcome.ok, outcome.status) == (True, 200)
    assert time.monotonic() - started < 2  # read a few kilobytes, then hung up: no waiting for the rest


def test_silence_garbage_and_a_close_without_an_answer_are_failures_with_the_reason(portal, connections):
    server = portal(
        {
            "/silent": (b"", "stall"),
            "/garbage": (b"SMTP ready\r\n\r\n", "close"),
            "/hangs-up": (b"", "close"),
            "/half": (b"HTTP/1.1 200 OK\r\ncontent-le", "close"),
        }
    )
    silent = send(server.url("/silent"), connections, timeout=1)
    garbage, hangs_up = send(server.url("/garbage"), connections), send(server.url("/hangs-up"), connections)
    half = send(server.url("/half"), connections)
    assert not silent.ok and silent.status is None and "TimeoutError" in silent.error
    assert not garbage.ok and garbage.status is None and garbage.error.startswith("HttpParser")
    assert not hangs_up.ok and "closed before any answer" in hangs_up.error
    assert not half.ok and "ended within its status and headers" in half.error


def test_a_redirect_is_followed_to_a_checked_address(portal, connections):
    server = portal(
        {
            "/moved": (b"HTTP/1.1 308 Permanent Redirect\r\nlocation: /here\r\ncontent-length: 0\r\n\r\n", "keep"),
            "/here": (b"HTTP/1.1 204 No Content\r\n\r\n", "keep"),
        }
    )
    outcome = send(server.url("/moved"), connections)
    assert (outcome.ok, outcome.status) == (True, 204)
    assert [path for path, _, _ in server.requests] == ["/moved", "/here"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook\r\nx-injected: 1",
        "http://127.0.0.1:9/a hook",
        "http://127.0.0.1:9/\x00",
        "http://127.0.0.1:9/hook-ä",
    ],
)
def test_a_url_that_could_smuggle_a_header_or_is_not_encoded_is_refused(url):
    with pytest.raises(InvalidInput, match="percent-encoded"):
        webhooks.check_url(url, allow_loopback=True)
    outcome = send(url, webhooks.Connections())
    assert not outcome.ok and outcome.error.startswith("refused")
