"""Opening a file with a receipt as its first paper (`POST /files` with `receipt_id`,
services.gateway.files.open_with_receipt), against an in-memory office that answers as dak and
files do: a receipt that may not go in a file opens nothing, uses no number and spends no key;
a receipt refused in the moment after the check leaves no file behind; a retry finishes."""
from __future__ import annotations

import uuid

import pytest

from eoffice.contracts.files import CreateFile
from eoffice.errors import Conflict, NotFound, Unavailable
from services.gateway.files import open_with_receipt

WHO = {"user_id": "UP100157", "post_id": "AO(REV)-LKO", "office_id": "LKO-REV"}
RECEIPT = "6f1c1f5e-8d43-4a4e-9b7e-1f2d3c4b5a69"


class Office:
    """Dak's one receipt and the files opened, as the two services answer the gateway. `then`
    is what becomes of the receipt as the file is opened (another session of the post acting
    on it in that moment); `files_away` makes files stop answering after it opened a file."""

    def __init__(self, receipt: str = "open", *, then: str | None = None, files_away: bool = False):
        self.receipt, self.then, self.files_away = receipt, then, files_away
        self.receipt_file: str | None = None
        self.files: dict[str, dict] = {}  # id -> file
        self.keys: dict[str, dict] = {}  # key -> the file `create` answered
        self.last_serial = 0

    def call(self, service: str, method: str, *args):
        return getattr(self, f"{service}_{method}")(*args)

    def _refuse_receipt(self) -> None:
        if self.receipt == "unknown":
            raise NotFound(f"no receipt {RECEIPT}")
        if self.receipt != "open":
            raise Conflict(f"receipt 12/2026/LKO-REV is {self.receipt}")

    def dak_receipt_to_file(self, who, receipt_id):
        self._refuse_receipt()
        return {"receipt_id": receipt_id, "diary_number": "12/2026/LKO-REV"}

    def dak_put_in_file(self, who, receipt_id, request, key):
        if self.receipt == "in_file" and self.receipt_file == request["file_id"]:
            return {"receipt_id": receipt_id, "file_id": request["file_id"]}  # the first answer, again
        self._refuse_receipt()
        self.receipt, self.receipt_file = "in_file", request["file_id"]
        return {"receipt_id": receipt_id, "file_id": request["file_id"]}

    def files_opened_with(self, who, key):
        return self.keys.get(key)

    def files_create(self, who, request, key):
        if key in self.keys:
            return self.keys[key]
        self.last_serial += 1
        file = {"id": str(uuid.uuid4()), "file_number": f"N-QA1/{self.last_serial}/2026-LKO-REV"}
        self.files[file["id"]] = self.keys[key] = file
        self.receipt = self.then or self.receipt
        return file

    def files_withdraw(self, who, key, remarks):
        if self.files_away:
            raise Unavailable("files did not answer within 10s")
        file = self.keys.pop(key, None)
        if file is None:
            return {"withdrawn": False}
        del self.files[file["id"]]
        self.last_serial -= 1
        return {"file_id": file["id"], "withdrawn": True}


def open_file(office: Office, key: str = "key-0001", subject: str = "Mutation of khasra 112"):
    body = CreateFile(subject_head="QA1", subject=subject, receipt_id=RECEIPT)
    return open_with_receipt(office.call, who=WHO, body=body, key=key)


@pytest.mark.parametrize(("receipt", "refused", "says"), [
    ("unknown", NotFound, "no receipt"),
    ("physical: receive it before acting on it", Conflict, "receive it before acting on it"),
    ("closed: reopen it first", Conflict, "closed"),
])
def test_a_receipt_that_may_not_go_in_a_file_opens_nothing_and_spends_nothing(receipt, refused, says):
    office = Office(receipt)
    with pytest.raises(refused) as answer:
        open_file(office)
    assert says in answer.value.detail and answer.value.fields["field"] == "receipt_id"
    assert (office.files, office.last_serial, office.keys) == ({}, 0, {})  # no file, no number, no key spent

    office.receipt = "open"  # put right (received, reopened), the same key opens the file
    file = open_file(office)
    assert file["file_number"] == "N-QA1/1/2026-LKO-REV" and office.receipt_file == file["id"]


def test_a_receipt_refused_in_the_moment_after_the_check_leaves_no_file_behind():
    office = Office(then="closed: reopen it first")  # closed in another session as the file opens
    with pytest.raises(Conflict) as answer:
        open_file(office)
    assert "closed" in answer.value.detail and answer.value.fields["field"] == "receipt_id"
    assert (office.files, office.last_serial, office.keys) == ({}, 0, {})

    office.receipt, office.then = "open", None
    assert open_file(office, subject="the same key, put right")["file_number"] == "N-QA1/1/2026-LKO-REV"


def test_when_the_file_cannot_be_withdrawn_the_answer_says_it_stays_and_a_retry_withdraws_it():
    office = Office(then="closed: reopen it first", files_away=True)
    with pytest.raises(Conflict) as answer:
        open_file(office)
    assert "file N-QA1/1/2026-LKO-REV was opened for it and stays" in answer.value.detail
    assert len(office.files) == 1

    office.files_away = False
    with pytest.raises(Conflict):
        open_file(office)  # the retry: the key opened a file, whose receipt dak still refuses
    assert (office.files, office.last_serial, office.keys) == ({}, 0, {})


def test_a_retry_of_a_request_that_was_done_answers_the_same_file():
    office = Office()
    first = open_file(office)
    assert office.receipt == "in_file"  # dak now refuses the check: the receipt is in a file
    assert open_file(office) == first and list(office.files) == [first["id"]]


def test_a_retry_after_dak_was_away_finishes_the_request():
    office = Office()
    put = office.dak_put_in_file

    def away(*args):
        raise Unavailable("dak did not answer within 10s")
    office.dak_put_in_file = away
    with pytest.raises(Unavailable):
        open_file(office)
    assert len(office.files) == 1 and office.receipt == "open"  # not known to be refused: the file stays

    office.dak_put_in_file = put
    file = open_file(office)
    assert list(office.files) == [file["id"]] and office.receipt_file == file["id"]
