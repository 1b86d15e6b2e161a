"""Mixed dak and files work through a real gateway over HTTP, paced at a steady rate, recording
every answer, for the fault suite: what a busy office does while a part of the system fails.

Each client thread runs one flow over and over: a dak clerk diarises a letter, reads it and
sends it to an officer, who reads it; or a dealing hand opens a file, reads it and sends it to
the section officer, who reads it. Every change carries an idempotency key, kept with the
request, so that whatever failed can be sent again exactly as it was (`retry_failed`)."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx

from tests.support.demo import PASSWORD, demo, holder_email
from tests.support.system import SpreadClient

CLERKS = [p["code"] for p in demo("posts") if "dak_clerk" in p["roles"].split(";") and p["office_code"] == "LKO-DAK"]
RECEIPT_OFFICER = "DM-LKO"
FILE_OFFICER = "SO(EST)-GAD"
_HELD = {p["post_code"] for p in demo("postings") if not p["end_date"]}
DEALERS = [p["code"] for p in demo("posts") if p["supervisor_code"] == FILE_OFFICER and p["code"] in _HELD][:4]
SUBJECT_HEAD = "LOAD"
logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the outcome


@dataclass
class Call:
    """One request and what came of it."""
    op: str
    method: str
    path: str
    headers: dict
    body: dict | None = None
    status: int | None = None  # None: no HTTP answer at all (connection refused or reset, timeout)
    answer: dict | None = None
    retry_after: str | None = None
    error: str | None = None
    started: float = 0.0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def changes(self) -> bool:
        return self.method != "GET"

    @property
    def clear_unavailable(self) -> bool:
        """A 503 as the API promises it: a problem document that says so, with Retry-After."""
        return (self.status == 503 and self.retry_after is not None and self.answer is not None
                and self.answer.get("type") == "urn:eoffice:problem:unavailable")


@dataclass
class MixedLoad:
    gateway: str
    rate: float = 60.0  # requests a second, all clients together
    clients: int = 16
    calls: list[Call] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # e.g. subjects of what was made
    # Send a request once more when its connection broke before an answer, as clients do (an idle
    # keep-alive connection a stopping gateway worker closes breaks that way): SpreadClient.
    reconnect: bool = False

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._slot = 0
        self._threads: list[threading.Thread] = []
        self.headers: dict[str, dict] = {}

    # -- setting up -------------------------------------------------------------------------

    def client(self) -> httpx.Client:
        if self.reconnect:
            return SpreadClient([self.gateway])
        return httpx.Client(base_url=self.gateway, timeout=httpx.Timeout(30.0, connect=5.0))

    def prepare(self) -> None:
        """Signs in every post the flows use, and adds the subject head files are opened under."""
        with self.client() as api:
            for post in [*CLERKS, RECEIPT_OFFICER, *DEALERS, FILE_OFFICER, "EOADM-GAD"]:
                answer = api.post("/api/v1/auth/sign-in", json={"email": holder_email(post), "password": PASSWORD,
                                                                "post_code": post})
                assert answer.status_code == 200, answer.text
                self.headers[post] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
            head = api.post("/api/v1/offices/GAD-EST/subject-heads", json={"code": SUBJECT_HEAD, "title": "Load"},
                            headers={**self.headers["EOADM-GAD"], "Idempotency-Key": uuid.uuid4().hex})
            assert head.status_code in (201, 409, 422), head.text  # 409/422: added by an earlier run

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        self._t0 = time.monotonic()
        for n in range(self.clients):
            thread = threading.Thread(target=self._loop, args=(n,), daemon=True, name=f"load-{n}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self.duration = time.monotonic() - self._t0

    def _pace(self) -> bool:
        """Waits for this client's next slot in a schedule of `rate` requests a second."""
        with self._lock:
            slot, self._slot = self._slot, self._slot + 1
        delay = self._t0 + slot / self.rate - time.monotonic()
        if delay > 0:
            self._stop.wait(delay)
        return not self._stop.is_set()

    def _loop(self, n: int) -> None:
        flow = self._receipt_flow if n % 2 == 0 else self._file_flow
        with self.client() as api:
            turn = 0
            while not self._stop.is_set():
                flow(api, n, turn)
                turn += 1

    def send(self, api: httpx.Client, call: Call) -> Call:
        """Sends `call` once and records the answer."""
        call.started = time.monotonic()
        try:
            answer = api.request(call.method, call.path, headers=call.headers, json=call.body)
            call.status = answer.status_code
            call.retry_after = answer.headers.get("retry-after")
            if answer.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
                call.answer = answer.json()
        except httpx.HTTPError as exc:
            call.error = f"{type(exc).__name__}: {exc}"
        call.elapsed = time.monotonic() - call.started
        return call

    def _do(self, api, op: str, method: str, path: str, post: str, body: dict | None = None) -> Call | None:
        if not self._pace():
            return None
        headers = dict(self.headers[post])
        if method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        call = self.send(api, Call(op, method, path, headers, body))
        with self._lock:
            self.calls.append(call)
        return call

    def _receipt_flow(self, api, n: int, turn: int) -> None:
        clerk = CLERKS[n // 2 % len(CLERKS)]
        subject = f"load receipt {uuid.uuid4().hex}"
        today = datetime.now(timezone(timedelta(hours=5, minutes=30))).date().isoformat()
        made = self._do(api, "diarise", "POST", "/api/v1/receipts", clerk,
                        {"subject": subject, "sender_name": "Load", "received_date": today, "mode": "hand"})
        if made is None or not made.ok:
            return
        receipt = made.answer["id"]
        if self._do(api, "read receipt", "GET", f"/api/v1/receipts/{receipt}", clerk) is None:
            return
        sent = self._do(api, "send receipt", "POST", f"/api/v1/receipts/{receipt}/send", clerk,
                        {"to_post": RECEIPT_OFFICER})
        if sent is not None and sent.ok:
            self._do(api, "read receipt", "GET", f"/api/v1/receipts/{receipt}", RECEIPT_OFFICER)

    def _file_flow(self, api, n: int, turn: int) -> None:
        dealer = DEALERS[n // 2 % len(DEALERS)]
        made = self._do(api, "open file", "POST", "/api/v1/files", dealer,
                        {"subject_head": SUBJECT_HEAD, "subject": f"load file {uuid.uuid4().hex}"})
        if made is None or not made.ok:
            return
        file_id = made.answer["id"]
        if self._do(api, "read file", "GET", f"/api/v1/files/{file_id}", dealer) is None:
            return
        sent = self._do(api, "send file", "POST", f"/api/v1/files/{file_id}/send", dealer, {"to_post": FILE_OFFICER})
        if sent is not None and sent.ok:
            self._do(api, "read file", "GET", f"/api/v1/files/{file_id}", FILE_OFFICER)

    # -- afterwards -------------------------------------------------------------------------

    def failed(self) -> list[Call]:
        return [c for c in self.calls if not c.ok]

    def unclear(self) -> list[Call]:
        """Failures that were not a clear 503: anything a client could not act on."""
        return [c for c in self.failed() if not c.clear_unavailable]

    def retry_failed(self, timeout: float = 90) -> list[Call]:
        """Sends every failed change again, with its own idempotency key and body, until it
        succeeds or `timeout` passes; returns the retries' last answers."""
        deadline = time.monotonic() + timeout

        def retry(call: Call) -> Call:
            with self.client() as api:
                while True:
                    again = self.send(api, Call(call.op, call.method, call.path, call.headers, call.body))
                    if again.ok or time.monotonic() > deadline:
                        return again
                    time.sleep(0.5)
        with ThreadPoolExecutor(max_workers=16) as pool:
            return list(pool.map(retry, [c for c in self.failed() if c.changes]))

    def per_second(self) -> float:
        return len(self.calls) / self.duration

    def summary(self) -> str:
        by_status: dict[str, int] = {}
        for c in self.calls:
            key = str(c.status) if c.status else (c.error or "no answer").split(":")[0]
            by_status[key] = by_status.get(key, 0) + 1
        slowest = max((c.elapsed for c in self.calls), default=0)
        return (f"{len(self.calls)} requests in {self.duration:.0f}s ({self.per_second():.1f}/s), "
                f"answers {dict(sorted(by_status.items()))}, slowest {slowest:.1f}s")
