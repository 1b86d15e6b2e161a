"""A state's everyday work through the gateway, open-loop at a target rate, with a ledger of
every acknowledged result: for the whole-state benchmark (deploy/bench/state.py) and the fault
suite (imported there as tests.support.workload). Standard use:

    org = Organisation.from_folder(folder)   # the importer's CSV files (offices, posts, users, postings)
    work = Workload(["http://127.0.0.1:8100"], org, password="...", rate=20, clients=16, people=300)
    work.prepare()                 # signs in a sample of people, adds subject heads, opens files
    result = work.run(seconds=30)  # or work.start() ... work.stop() around something else
    print(result.table())          # per operation: done, errors by status, ops/s, p50/p95/p99
    result.ledger                  # every acknowledged receipt, note, movement and signature
    result.ledger.reconcile(work)  # afterwards: each acknowledged result is there, once

The contract:
- Open-loop: operations start on a fixed schedule of `rate` a second (whatever the answers
  take), on at most `clients` requests at a time; an operation's latency runs from its
  scheduled start to its last answer, so time spent waiting for a free client counts (no
  coordinated omission). `Result.behind` says how late the schedule ran at worst.
- The mix (`MIX`, weights): diarise 15 (a dak clerk diarises a paper letter), read 40 (a holder
  reads a file or receipt it holds, or its inbox), note 15 (a file's holder writes a green
  note), send 15 (a receipt from its clerk to an officer of the same district or department,
  or a file between a dealing hand and its section's officer), search 10, sign 5 (an officer
  writes a green note on a file it holds and signs it with a DSC: the two-phase token path of
  docs/signing.md, the workload signing `to_be_signed` with the certificate's key as the
  signer program does on the token). Without `signers`, sign is left out of the mix.
- The people: about `people` posts sampled (`seed`) over every district and department of the
  organisation (a quarter dak clerks, then dealing hands and the officers they report to; at
  least one of each in every district and department), each signed in once with `password`
  (again on a 401: access tokens last 15 minutes).
- Every change carries an Idempotency-Key; on no answer (connection refused or reset, a
  timeout) or a 502/503/504 it is sent again with the same key and body, to the next gateway,
  until `retry_seconds` pass. So a change acknowledged (2xx) is recorded in the ledger once,
  and one never acknowledged may or may not have happened (`Result.unacknowledged`). A read
  (GET) is tried again the same way for `read_retry_seconds` only, then counted as failed, as a
  person gives up on a page: retried for minutes while a part is away (search while
  Elasticsearch is), reads would hold every client and the schedule would fall behind.
- Requests go to the gateways in turn (a load balancer's round robin), as absolute URLs through
  `work.api`, an httpx.Client that a caller may replace before `prepare` (to record every
  attempt, say: a tests.support.system.SpreadClient subclass works too).

The ledger holds plain dicts (`to_json`), each with the `token` written into the record (the
receipt's subject, the note's body), so that a lost or doubled record can be told apart:
receipts (id, diary_number, office_code, clerk, token), notes (file_id, seq, post, token),
movements (kind receipt|file, id, from_post, to_post), signatures (file_id, seq, request_id).
`Ledger.reconcile` reads every one back through the API and returns what is missing or doubled.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import itertools
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from eoffice.access import JURISDICTION_LEVELS

logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the figures
MIX = {"diarise": 15, "read": 40, "note": 15, "send": 15, "search": 10, "sign": 5}
SUBJECT_HEAD = "WORK"
RETRY_STATUSES = (502, 503, 504)
IST = timezone(timedelta(hours=5, minutes=30))
TOPICS = [
    "भूमि विवाद आवेदन",
    "pension arrears",
    "वेतन निर्धारण",
    "land mutation",
    "छात्रवृत्ति भुगतान",
    "road repair estimate",
    "राशन कार्ड शिकायत",
    "flood relief claim",
    "स्थानांतरण प्रार्थना पत्र",
    "RTI application",
    "बिजली कनेक्शन",
    "tender approval",
    "आंगनबाड़ी नियुक्ति",
    "audit para reply",
]


# --- the organisation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """A post and whoever holds it today."""

    post: str
    email: str
    office: str
    unit: str  # its jurisdiction (department, head-of-department office or district): work stays in it
    roles: frozenset[str]
    supervisor: str | None


@dataclass
class Organisation:
    """The held posts of an organisation, from the importer's CSV files."""

    desks: dict[str, Desk]
    system_admin: str  # a post with the system_admin role

    @classmethod
    def from_folder(cls, folder: Path | str) -> Organisation:
        folder = Path(folder)

        def rows(name: str) -> list[dict]:
            with open(folder / f"{name}.csv", encoding="utf-8") as f:
                return list(csv.DictReader(f))

        offices = rows("offices")
        parent = {o["code"]: o["parent_code"] for o in offices}
        level = {o["code"]: o["level"] for o in offices}

        def unit(office: str) -> str:
            """The office's jurisdiction, as the directory draws it (work goes only within one):
            the nearest department, head-of-department office or district; else the state."""
            while level.get(office) not in JURISDICTION_LEVELS and parent.get(office):
                office = parent[office]
            return office

        email = {u["employee_id"]: u["email"] for u in rows("users")}
        holder = {}
        for p in rows("postings"):  # the regular holder today wins over an additional charge
            if not p["end_date"] and (p["charge"] == "regular" or p["post_code"] not in holder):
                holder[p["post_code"]] = email[p["employee_id"]]
        desks = {
            p["code"]: Desk(
                p["code"],
                holder[p["code"]],
                p["office_code"],
                unit(p["office_code"]),
                frozenset(r for r in p["roles"].split(";") if r),
                p["supervisor_code"] or None,
            )
            for p in rows("posts")
            if p["code"] in holder
        }
        admin = next(d.post for d in desks.values() if "system_admin" in d.roles)
        return cls(desks, admin)


@dataclass(frozen=True)
class Signer:
    """A DSC for the sign operation: the certificate (PEM) and its private key (PEM, PKCS#8)."""

    certificate: bytes
    key: bytes


# --- what came of it ---------------------------------------------------------------------------


@dataclass
class Ledger:
    """Every acknowledged result, in the order acknowledged (see the module's docstring)."""

    receipts: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    movements: list[dict] = field(default_factory=list)
    signatures: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    def reconcile(self, work: Workload) -> dict:
        """Reads every receipt and file of the ledger back (as its last holder); returns
        {"checked": n, "lost": [...], "doubled": [...], "mismatched": [...]}: an acknowledged
        receipt, note, movement or signature not found, a note token found twice, a receipt whose
        diary number differs."""
        out: dict = {"checked": 0, "lost": [], "doubled": [], "mismatched": []}
        for r in self.receipts:
            answer = work.get(f"/api/v1/receipts/{r['id']}", work.receipt_holder.get(r["id"], r["clerk"]))
            out["checked"] += 1
            if answer.status_code != 200:
                out["lost"].append({"receipt": r, "status": answer.status_code})
                continue
            body = answer.json()
            if body["diary_number"] != r["diary_number"] or r["token"] not in body["subject"]:
                out["mismatched"].append({"receipt": r, "found": body["diary_number"]})
            moves = Counter((m["from_post"], m["to_post"]) for m in body["movements"] if m["action"] == "sent")
            for m in (m for m in self.movements if m["kind"] == "receipt" and m["id"] == r["id"]):
                if not moves[(m["from_post"], m["to_post"])]:
                    out["lost"].append({"movement": m})
        for file_id in {n["file_id"] for n in self.notes} | {m["id"] for m in self.movements if m["kind"] == "file"}:
            answer = work.get(f"/api/v1/files/{file_id}", work.file_holder[file_id])
            out["checked"] += 1
            if answer.status_code != 200:
                out["lost"].append({"file": file_id, "status": answer.status_code})
                continue
            body = answer.json()
            for n in (n for n in self.notes if n["file_id"] == file_id):
                found = [g for g in body["notes"] if n["token"] in g["body"]]
                if not found:
                    out["lost"].append({"note": n})
                elif len(found) > 1:
                    out["doubled"].append({"note": n, "seqs": [g["seq"] for g in found]})
            sent = sum(m["action"] == "sent" for m in body["movements"])
            acknowledged = sum(m["kind"] == "file" and m["id"] == file_id for m in self.movements)
            if sent < acknowledged:
                out["lost"].append({"file": file_id, "movements": acknowledged, "found": sent})
        return out


@dataclass
class Outcome:
    """One operation: its kind, final HTTP status (None: no answer), seconds from its scheduled
    start to its last answer, and how many times a request was sent again."""

    op: str
    status: int | None
    latency: float
    retries: int = 0
    skipped: bool = False  # nothing to work on at that moment (no free file or receipt)
    due: float = 0.0  # its scheduled start (time.monotonic())

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class Result:
    outcomes: list[Outcome]
    seconds: float  # from the first scheduled start to the last answer
    offered: float  # the rate asked for
    behind: float  # the most an operation's start was behind its schedule, in seconds
    ledger: Ledger
    unacknowledged: list[dict]  # changes sent that never got a 2xx (with key and body)

    def by_op(self) -> dict[str, list[Outcome]]:
        ops: dict[str, list[Outcome]] = {}
        for o in self.outcomes:
            if not o.skipped:
                ops.setdefault(o.op, []).append(o)
        return ops

    def table(self) -> str:
        """Markdown: per operation and in all, done (2xx), errors by status, ops/s, latency."""
        lines = ["| operation | done | errors | ops/s | p50 | p95 | p99 |", "|---|---|---|---|---|---|---|"]
        ops = self.by_op()
        for name, outcomes in [*((n, ops[n]) for n in MIX if n in ops), ("all", [o for v in ops.values() for o in v])]:
            ok = [o.latency for o in outcomes if o.ok]
            errors = Counter(str(o.status or "no answer") for o in outcomes if not o.ok)
            lines.append(
                f"| {name} | {len(ok)} | {', '.join(f'{k}: {v}' for k, v in sorted(errors.items())) or 0} "
                f"| {len(ok) / self.seconds:.1f} | {percentile(ok, 50) * 1000:.0f} ms "
                f"| {percentile(ok, 95) * 1000:.0f} ms | {percentile(ok, 99) * 1000:.0f} ms |"
            )
        return "\n".join(lines)


# --- the workload ------------------------------------------------------------------------------


@dataclass
class _File:
    id: str
    holder: str
    other: str  # where a send takes it: the dealing hand and its officer, in turn
    signer: Signer | None = None


class Workload:
    """See the module's docstring. Not reusable across runs: one `prepare`, one run."""

    def __init__(
        self,
        gateways: list[str],
        organisation: Organisation,
        *,
        password: str,
        rate: float = 20.0,
        clients: int = 16,
        people: int = 300,
        seed: int = 1,
        signers: list[Signer] | tuple = (),
        files_per_dealer: int = 2,
        retry_seconds: float = 60.0,
        read_retry_seconds: float = 5.0,
        mix: dict[str, int] | None = None,
    ):
        self.read_retry_seconds = read_retry_seconds
        self.organisation, self.password, self.rate, self.clients = organisation, password, rate, clients
        self.people, self.signers, self.files_per_dealer = people, list(signers), files_per_dealer
        self.retry_seconds, self.rng = retry_seconds, random.Random(seed)
        self.mix = {k: v for k, v in (mix or MIX).items() if v and (k != "sign" or self.signers)}
        self.gateways = [url.rstrip("/").removesuffix("/api/v1") for url in gateways]
        self._turns = itertools.cycle(range(len(self.gateways)))
        self.api = httpx.Client(
            timeout=httpx.Timeout(60.0, connect=5.0),
            limits=httpx.Limits(max_connections=clients + 8, max_keepalive_connections=clients + 8),
        )
        self.headers: dict[str, dict] = {}
        self.ledger = Ledger()
        self.file_holder: dict[str, str] = {}
        self.receipt_holder: dict[str, str] = {}
        self.unacknowledged: list[dict] = []
        self._lock = threading.Lock()
        self._free_files: list[_File] = []
        self._signer_files: list[_File] = []
        self._unsent: deque = deque()  # (receipt id, clerk, officer)
        self._sent: list[tuple[str, str]] = []  # (receipt id, holder)
        self._subjects: deque = deque(maxlen=200)
        self._stop = threading.Event()
        self._sample()  # who does what: by the seed, before anyone is asked anything

    # -- who does what --------------------------------------------------------------------

    def _sample(self) -> None:
        desks = self.organisation.desks
        units: dict[str, list[Desk]] = {}
        for desk in desks.values():
            units.setdefault(desk.unit, []).append(desk)
        per_unit = self.people // max(1, len(units))  # clerks, dealing hands and their officers
        self.clerks: list[str] = []
        self.dealers: list[str] = []
        self.officers: list[str] = []
        # A dealing hand's officer: a held post with the officer role above it.
        officer_of = {d.post: d.supervisor for d in desks.values()
                      if d.supervisor in desks and "officer" in desks[d.supervisor].roles}  # fmt: skip
        for unit in sorted(units):
            here = sorted(units[unit], key=lambda d: d.post)
            clerks = [d.post for d in here if "dak_clerk" in d.roles]
            dealers = [d.post for d in here if "section_staff" in d.roles and officer_of.get(d.post)]
            self.rng.shuffle(clerks)
            self.rng.shuffle(dealers)
            if not dealers:  # a clerk marks letters to an officer of the same jurisdiction: none here
                continue
            clerks = clerks[: max(1, per_unit // 4)]
            dealers = dealers[: max(1, (per_unit - len(clerks)) * 2 // 3)]
            self.clerks += clerks
            self.dealers += dealers
            self.officers += sorted({officer_of[d] for d in dealers})
        self.officers_of: dict[str, list[str]] = {}
        for post in self.officers:
            self.officers_of.setdefault(desks[post].unit, []).append(post)
        # Signers: officers of the first units, one certificate each.
        self.signer_posts = dict(zip(self.officers, self.signers, strict=False))
        self.everyone = sorted({*self.clerks, *self.dealers, *self.officers, self.organisation.system_admin})

    # -- HTTP -----------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """`path` ("/api/v1/...") on the next gateway in turn."""
        with self._lock:
            return self.gateways[next(self._turns)] + path

    def sign_in(self, post: str) -> dict:
        """Signs the holder of `post` in (again; again on no answer or a 502/503/504 until
        `retry_seconds` pass); returns the Authorization header. Raises RuntimeError if refused."""
        deadline, answer = time.monotonic() + self.retry_seconds, None
        while answer is None or (answer.status_code in RETRY_STATUSES and time.monotonic() < deadline):
            if answer is not None:
                time.sleep(1)
            try:
                answer = self.api.post(
                    self.url("/api/v1/auth/sign-in"),
                    json={"email": self.organisation.desks[post].email, "password": self.password, "post_code": post},
                )
            except httpx.HTTPError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"signing in {post}: no answer ({exc})") from exc
                time.sleep(1)
        if answer.status_code != 200:
            raise RuntimeError(f"signing in {post}: {answer.status_code} {answer.text[:300]}")
        self.headers[post] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return self.headers[post]

    def request(
        self, method: str, path: str, post: str, *, json_body: dict | None = None, params: dict | None = None
    ) -> tuple[httpx.Response | None, int]:
        """Sends one request as `post`, a change with an idempotency key, again with the same key
        on no answer or a 502/503/504 until `retry_seconds` pass (a read: `read_retry_seconds`),
        once more after a 401 (signed in afresh); returns the last answer (None: none) and how
        many times it was sent again."""
        key = uuid.uuid4().hex if method != "GET" else None
        patience = self.retry_seconds if key else self.read_retry_seconds
        deadline, retries, answer = time.monotonic() + patience, 0, None
        signed_in_again = False
        while True:
            headers = dict(self.headers[post])
            if key:
                headers["Idempotency-Key"] = key
            try:
                answer = self.api.request(method, self.url(path), headers=headers, json=json_body, params=params)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 401 and not signed_in_again:
                signed_in_again = True
                try:
                    self.sign_in(post)
                except (httpx.HTTPError, RuntimeError):
                    pass
                continue
            if (answer is None or answer.status_code in RETRY_STATUSES) and time.monotonic() < deadline:
                retries += 1
                wait = 0.5
                if answer is not None and (answer.headers.get("retry-after") or "").isdigit():
                    wait = min(5.0, float(answer.headers["retry-after"]))
                time.sleep(wait)
                continue
            if key and (answer is None or answer.status_code >= 300):
                with self._lock:
                    self.unacknowledged.append(
                        {
                            "method": method,
                            "path": path,
                            "post": post,
                            "key": key,
                            "body": json_body,
                            "status": _status(answer),
                        }
                    )
            return answer, retries

    def get(self, path: str, post: str, **params) -> httpx.Response:
        if post not in self.headers:
            self.sign_in(post)
        answer, _ = self.request("GET", path, post, params=params or None)
        if answer is None:
            raise RuntimeError(f"GET {path}: no answer")
        return answer

    # -- preparing ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Signs in the sample, adds subject head WORK to every office a file is opened in,
        registers the signers' certificates and opens the files the run works on. Raises
        RuntimeError on a refusal."""
        # A sign-in checks a password hash (argon2, about 0.1 s of the directory's CPU): a few at a time.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self.sign_in, self.everyone))
        admin = self.organisation.system_admin
        offices = sorted({self.organisation.desks[p].office for p in [*self.dealers, *self.signer_posts]})

        def head(office: str) -> None:
            answer, _ = self.request(
                "POST",
                f"/api/v1/offices/{office}/subject-heads",
                admin,
                json_body={"code": SUBJECT_HEAD, "title": "Everyday work"},
            )
            if answer is None or answer.status_code not in (201, 409, 422):  # 409/422: there already
                raise RuntimeError(f"subject head for {office}: {_status(answer)} {answer and answer.text}")

        def open_file(post: str) -> _File:
            answer, _ = self.request(
                "POST",
                "/api/v1/files",
                post,
                json_body={
                    "subject_head": SUBJECT_HEAD,
                    "subject": f"{self.rng.choice(TOPICS)} {uuid.uuid4().hex[:8]}",
                },
            )
            if answer is None or answer.status_code != 201:
                raise RuntimeError(f"opening a file as {post}: {_status(answer)} {answer and answer.text}")
            file_id = answer.json()["id"]
            desk = self.organisation.desks[post]
            return _File(file_id, post, desk.supervisor or post, self.signer_posts.get(post))

        def register(post: str) -> None:
            answer, _ = self.request(
                "POST",
                "/api/v1/signing/certificates",
                post,
                json_body={"certificate": self.signer_posts[post].certificate.decode()},
            )
            if answer is not None and answer.status_code == 202:  # prove holding the key: sign the challenge
                asked, signer = answer.json(), self.signer_posts[post]
                value = _sign(signer.key, base64.b64decode(asked["to_be_signed"]), asked["digest_algorithm"])
                answer, _ = self.request(
                    "POST",
                    f"/api/v1/signing/requests/{asked['id']}/signature",
                    post,
                    json_body={"signature": base64.b64encode(value).decode()},
                )
            if answer is None or answer.status_code != 201:
                raise RuntimeError(f"registering a certificate to {post}: {answer and answer.text}")

        with ThreadPoolExecutor(max_workers=self.clients) as pool:
            list(pool.map(head, offices))
            for post in self.signer_posts:  # one at a time: see docs/benchmarks.md, "Whole-state benchmark"
                register(post)
            dealt = list(pool.map(open_file, [p for p in self.dealers for _ in range(self.files_per_dealer)]))
            signed = list(pool.map(open_file, [p for p in self.signer_posts for _ in range(4)]))
        self._free_files = dealt
        self._signer_files = signed
        for f in [*dealt, *signed]:
            self.file_holder[f.id] = f.holder

    # -- the operations ---------------------------------------------------------------------

    def _take_file(self, pool: list[_File]) -> _File | None:
        with self._lock:
            if not pool:
                return None
            return pool.pop(self.rng.randrange(len(pool)))

    def _give_back(self, pool: list[_File], f: _File) -> None:
        with self._lock:
            pool.append(f)

    def op_diarise(self) -> tuple[int | None, int]:
        clerk = self.rng.choice(self.clerks)
        token = uuid.uuid4().hex[:12]
        subject = f"{self.rng.choice(TOPICS)} {token}"
        answer, retries = self.request(
            "POST",
            "/api/v1/receipts",
            clerk,
            json_body={
                "subject": subject,
                "sender_name": "रामलाल वर्मा",
                "received_date": datetime.now(IST).date().isoformat(),
                "mode": "post",
            },
        )
        if answer is not None and answer.status_code == 201:
            made = answer.json()
            unit = self.organisation.desks[clerk].unit
            officer = self.rng.choice(self.officers_of[unit])
            with self._lock:
                self.ledger.receipts.append(
                    {
                        "id": made["id"],
                        "diary_number": made["diary_number"],
                        "office_code": made["office_code"],
                        "clerk": clerk,
                        "token": token,
                    }
                )
                self.receipt_holder[made["id"]] = clerk
                self._unsent.append((made["id"], clerk, officer))
                self._subjects.append(subject.split()[0])
        return _status(answer), retries

    def op_read(self) -> tuple[int | None, int]:
        pick = self.rng.random()
        if pick < 0.4:
            f = self._take_file(self._free_files)
            if f is not None:
                try:
                    answer, retries = self.request("GET", f"/api/v1/files/{f.id}", f.holder)
                finally:
                    self._give_back(self._free_files, f)
                return _status(answer), retries
        if pick < 0.8:
            with self._lock:
                seen = self.rng.choice(self._sent) if self._sent else None
            if seen:
                answer, retries = self.request("GET", f"/api/v1/receipts/{seen[0]}", seen[1])
                return _status(answer), retries
        answer, retries = self.request("GET", "/api/v1/inbox", self.rng.choice(self.everyone))
        return _status(answer), retries

    def op_note(self) -> tuple[int | None, int] | None:
        f = self._take_file(self._free_files)
        if f is None:
            return None
        try:
            return self._note(f)[:2]
        finally:
            self._give_back(self._free_files, f)

    def _note(self, f: _File) -> tuple[int | None, int, int | None]:
        token = uuid.uuid4().hex[:12]
        answer, retries = self.request(
            "POST",
            f"/api/v1/files/{f.id}/notes",
            f.holder,
            json_body={"body": f"परीक्षण किया गया, प्रस्तुत। Examined and submitted ({token}).", "green": True},
        )
        seq = None
        if answer is not None and answer.status_code == 201:
            seq = answer.json()["seq"]
            with self._lock:
                self.ledger.notes.append({"file_id": f.id, "seq": seq, "post": f.holder, "token": token})
        return _status(answer), retries, seq

    def op_send(self) -> tuple[int | None, int] | None:
        with self._lock:
            receipt = self._unsent.popleft() if self._unsent and self.rng.random() < 0.5 else None
        if receipt:
            receipt_id, clerk, officer = receipt
            answer, retries = self.request(
                "POST", f"/api/v1/receipts/{receipt_id}/send", clerk, json_body={"to_post": officer}
            )
            if answer is not None and answer.status_code == 200:
                with self._lock:
                    self.ledger.movements.append(
                        {"kind": "receipt", "id": receipt_id, "from_post": clerk, "to_post": officer}
                    )
                    self.receipt_holder[receipt_id] = officer
                    self._sent.append((receipt_id, officer))
            return _status(answer), retries
        f = self._take_file(self._free_files)
        if f is None:
            return None
        try:
            answer, retries = self.request(
                "POST", f"/api/v1/files/{f.id}/send", f.holder, json_body={"to_post": f.other}
            )
            if answer is not None and answer.status_code == 200:
                with self._lock:
                    self.ledger.movements.append(
                        {"kind": "file", "id": f.id, "from_post": f.holder, "to_post": f.other}
                    )
                    f.holder, f.other = f.other, f.holder
                    self.file_holder[f.id] = f.holder
            return _status(answer), retries
        finally:
            self._give_back(self._free_files, f)

    def op_search(self) -> tuple[int | None, int]:
        with self._lock:
            words = list(self._subjects) or [t.split()[0] for t in TOPICS]
        answer, retries = self.request(
            "GET", "/api/v1/search", self.rng.choice(self.everyone), params={"q": self.rng.choice(words), "limit": 20}
        )
        return _status(answer), retries

    def op_sign(self) -> tuple[int | None, int] | None:
        f = self._take_file(self._signer_files)
        if f is None:
            return None
        signer = f.signer
        assert signer is not None  # the signers' files are opened with their signer
        try:
            status, retries, seq = self._note(f)
            if seq is None:
                return status, retries
            sha = hashlib.sha256(_der(signer.certificate)).hexdigest()
            answer, more = self.request(
                "POST",
                f"/api/v1/files/{f.id}/notes/{seq}/signature-requests",
                f.holder,
                json_body={"certificate_sha256": sha},
            )
            retries += more
            if answer is None or answer.status_code != 201:
                return _status(answer), retries
            prepared = answer.json()
            value = _sign(signer.key, base64.b64decode(prepared["to_be_signed"]), prepared["digest_algorithm"])
            answer, more = self.request(
                "POST",
                f"/api/v1/signing/requests/{prepared['id']}/signature",
                f.holder,
                json_body={"signature": base64.b64encode(value).decode()},
            )
            if answer is not None and answer.status_code in (200, 201):
                with self._lock:
                    self.ledger.signatures.append({"file_id": f.id, "seq": seq, "request_id": prepared["id"]})
            return _status(answer), retries + more
        finally:
            self._give_back(self._signer_files, f)

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Starts the schedule in a thread of its own; `stop` ends it and returns the Result."""
        self.outcomes: list[Outcome] = []
        self._behind = 0.0
        self._thread = threading.Thread(target=self._schedule, name="workload", daemon=True)
        self._t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> Result:
        self._stop.set()
        self._thread.join()
        seconds = time.monotonic() - self._t0
        return Result(list(self.outcomes), seconds, self.rate, self._behind, self.ledger, list(self.unacknowledged))

    def run(self, seconds: float) -> Result:
        self.start()
        self._stop.wait(seconds)
        return self.stop()

    def _schedule(self) -> None:
        kinds, weights = list(self.mix), list(self.mix.values())
        with ThreadPoolExecutor(max_workers=self.clients, thread_name_prefix="work") as pool:
            n = 0
            while not self._stop.is_set():
                due = self._t0 + n / self.rate
                pause = due - time.monotonic()
                if pause > 0 and self._stop.wait(pause):
                    break
                pool.submit(self._one, self.rng.choices(kinds, weights)[0], due)
                n += 1
        # leaving the `with` waits for the operations in flight

    def _one(self, op: str, due: float) -> None:
        self._behind = max(self._behind, time.monotonic() - due)
        try:
            done = getattr(self, f"op_{op}")()
        except Exception:  # a bug of ours or an answer we could not read: counted, not fatal
            logging.getLogger(__name__).exception("operation %s", op)
            done = (None, 0)
        latency = time.monotonic() - due
        with self._lock:
            if done is None:
                self.outcomes.append(Outcome(op, None, latency, skipped=True, due=due))
            else:
                self.outcomes.append(Outcome(op, done[0], latency, done[1], due=due))


def _status(answer: httpx.Response | None) -> int | None:
    return None if answer is None else answer.status_code


def _der(pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


def _sign(key_pem: bytes, data: bytes, digest: str) -> bytes:
    """What the officer's token does with `to_be_signed`: RSA PKCS#1 v1.5 over its digest."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey), "the DSCs here are RSA keys"
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[digest.lower()]
    return key.sign(data, padding.PKCS1v15(), algorithm)
