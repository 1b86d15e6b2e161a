"""What notify remembers of the directory between events (services/notify/audience.py), and the
mailer's one SMTP connection per sending round: the savings of issue 16 must not change who is
told or what arrives."""
from __future__ import annotations

import socket
from datetime import date

import pytest

from eoffice.settings import Settings
from services.notify import audience as audience_module
from services.notify import channels
from services.notify.audience import DirectoryFacts
from services.notify.channels import DeliveryFailed, Mailer
from services.notify.smtp_sink import sink


class Directory:
    """Stands in for the directory's two calls, counting them; `holders` can change."""

    def __init__(self):
        self.holders = {"SO": [{"employee_id": "E1"}], "US": [{"employee_id": "E2"}, {"employee_id": "E3"}]}
        self.contacts = {"E1": {"email": "e1@x.in"}, "E2": {"email": "e2@x.in"}}  # E3 inactive
        self.asked: list[tuple] = []
        self.during_ask = None  # something that happens while an answer travels

    def holders_of(self, post):
        self.asked.append(("holders_of", post))
        answer = self.holders[post]
        if self.during_ask:
            self.during_ask()
        return answer

    def contacts_of(self, people):
        self.asked.append(("contacts_of", tuple(people)))
        return {p: self.contacts[p] for p in people if p in self.contacts}


def ask(facts, directory, posts):
    return facts.audience(posts, holders_of=directory.holders_of, contacts_of=directory.contacts_of)


def test_the_directory_is_asked_once_until_it_says_something_changed():
    clock = [0.0]
    facts, directory = DirectoryFacts(max_age=30, monotonic=lambda: clock[0]), Directory()
    first = ask(facts, directory, ["US", "SO"])
    assert first == {
        "holders": {"US": directory.holders["US"], "SO": directory.holders["SO"]},
        "contacts": {"E1": {"email": "e1@x.in"}, "E2": {"email": "e2@x.in"}},  # the inactive left out
    }
    asked = len(directory.asked)
    clock[0] = 29
    assert ask(facts, directory, ["SO", "US"]) == first and facts.known(["SO"]) is not None
    assert len(directory.asked) == asked  # remembered: no call
    # A hand-over: the event makes the process forget, the next event asks again.
    directory.holders["SO"] = [{"employee_id": "E2"}]
    facts.forget()
    assert facts.known(["SO"]) is None
    assert ask(facts, directory, ["SO"])["holders"]["SO"] == [{"employee_id": "E2"}]


def test_an_answer_is_used_at_most_max_age_seconds_and_only_on_its_day(monkeypatch):
    clock = [0.0]
    facts, directory = DirectoryFacts(max_age=30, monotonic=lambda: clock[0]), Directory()
    ask(facts, directory, ["SO"])
    clock[0] = 30  # an event missed (the broker away): the old answer lapses anyway
    assert facts.known(["SO"]) is None
    ask(facts, directory, ["SO"])
    assert facts.known(["SO"]) is not None
    # Postings and delegations start and end by the day in India.
    monkeypatch.setattr(audience_module.clock, "today", lambda: date(2099, 1, 1))
    assert facts.known(["SO"]) is None


def test_an_answer_asked_while_the_directory_changed_is_not_kept():
    facts, directory = DirectoryFacts(), Directory()
    directory.during_ask = facts.forget  # the hand-over's event arrives while holders_of travels
    ask(facts, directory, ["SO"])
    assert facts.known(["SO"]) is None  # asked again next time


@pytest.fixture
def mail_server(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller, store = sink(tmp_path, port=port)
    yield port, store
    controller.stop()


def test_a_sending_round_uses_one_smtp_connection_and_every_message_arrives(mail_server, monkeypatch):
    port, store = mail_server
    mailer = Mailer(Settings(smtp_host="127.0.0.1", smtp_port=port))
    connections = []
    connect = mailer._connect
    monkeypatch.setattr(mailer, "_connect", lambda: connections.append(1) or connect())
    with mailer.kept_open():
        for n in range(3):
            mailer.send(to=[f"p{n}@x.in"], subject=f"subject {n}", body=f"body {n}")
    assert len(connections) == 1
    assert [m["Subject"] for m in store.messages()] == ["subject 0", "subject 1", "subject 2"]
    # A long round changes connection now and then (some servers take only so many on one).
    monkeypatch.setattr(channels, "MESSAGES_PER_CONNECTION", 2)
    with mailer.kept_open():
        for n in range(5):
            mailer.send(to=[f"q{n}@x.in"], subject=f"again {n}", body=f"body {n}")
    assert len(connections) == 1 + 3 and len(store.messages()) == 8
    connections.clear()
    # Outside a round each message has its own connection, as before.
    mailer.send(to=["p3@x.in"], subject="subject 3", body="body 3")
    assert len(connections) == 1 and store.messages()[-1]["To"] == "p3@x.in"


def test_a_failed_send_in_a_round_drops_the_connection_and_the_next_message_opens_another(mail_server):
    port, store = mail_server
    mailer = Mailer(Settings(smtp_host="127.0.0.1", smtp_port=port))
    with mailer.kept_open():
        mailer.send(to=["a@x.in"], subject="first", body="1")
        mailer._kept.sock.shutdown(socket.SHUT_RDWR)  # the server's connection went away between two messages
        with pytest.raises(DeliveryFailed):  # retried later by the sender, never twice at once here
            mailer.send(to=["b@x.in"], subject="second", body="2")
        mailer.send(to=["c@x.in"], subject="third", body="3")
    assert [m["Subject"] for m in store.messages()] == ["first", "third"]
