"""The shared package's pure parts: settings, text normalisation, envelopes, error table."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from eoffice.errors import DomainError, NotCurrentHolder, Unavailable, error_by_name
from eoffice.events import Envelope, EventPayload, envelope_for
from eoffice.settings import Settings
from eoffice.text import normalise


def test_lists_come_from_comma_separated_environment_values(monkeypatch):
    monkeypatch.setenv("EOFFICE_MINIO_ENDPOINTS", "127.0.0.1:9001, 127.0.0.1:9002")
    monkeypatch.setenv("EOFFICE_RETRY_DELAYS", "0.5,2")
    settings = Settings()
    assert settings.minio_endpoints == ["127.0.0.1:9001", "127.0.0.1:9002"]
    assert settings.retry_delays == [0.5, 2.0]


def test_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("EOFFICE_RPC_TIMEOUT", "soon")
    with pytest.raises(ValidationError, match="rpc_timeout"):
        Settings()


@pytest.mark.parametrize("variant, plain", [
    ("ज़मीन", "जमीन"),             # nukta
    ("हँसी", "हंसी"),               # chandrabindu
    ("क्\u200dष", "क्ष"),            # zero-width joiner
    ("दिनांक १२/०३/२०२४", "दिनांक 12/03/2024"),
    ("Land RECORDS", "land records"),
])
def test_spelling_variants_normalise_alike(variant, plain):
    assert normalise(variant) == normalise(plain)


def test_normalise_keeps_different_words_apart():
    assert normalise("पेंशन") != normalise("पेशन")
    assert normalise("कर") != normalise("कार")


class FileMoved(EventPayload):
    event_type = "eoffice.file.moved.v1"
    file_id: str
    to_post: str


def test_envelope_carries_cloudevents_attributes_and_payload_round_trips():
    envelope = envelope_for("files", FileMoved(file_id="F-1", to_post="SO(EST)-GAD"), subject="F-1")
    wire = envelope.model_dump(mode="json")
    assert {"specversion", "id", "source", "type", "subject", "time", "data"} <= wire.keys()
    assert wire["source"] == "eoffice/files" and wire["type"] == "eoffice.file.moved.v1"
    back = Envelope.model_validate(wire)
    assert back.service == "files"
    assert back.payload(FileMoved) == FileMoved(file_id="F-1", to_post="SO(EST)-GAD")


def test_envelope_without_type_is_rejected():
    with pytest.raises(ValidationError, match="type"):
        Envelope.model_validate({"source": "eoffice/files", "data": {}})


def test_remote_error_names_map_back_to_domain_errors():
    assert error_by_name("NotCurrentHolder") is NotCurrentHolder
    assert NotCurrentHolder.status == 403 and NotCurrentHolder.code == "not-current-holder"
    assert error_by_name("Unavailable") is Unavailable
    assert error_by_name("KeyError") is None
    assert issubclass(NotCurrentHolder, DomainError)
