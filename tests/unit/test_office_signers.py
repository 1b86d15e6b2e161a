"""Whose key signs a letter issued with the office's key: the document signer of the letter's
office, else of the nearest office above it that has one; an office with none is refused, naming
it. The settings an operator writes (EOFFICE_SIGNING_OFFICE_CODE / _TOKEN / _KEY_LABEL / _PIN for
one office, EOFFICE_SIGNING_OFFICE_SIGNERS for more) are read and checked when they are read."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from eoffice.errors import Conflict, NoOfficeSigner
from eoffice.settings import OfficeSigner, Settings
from services.signing import keys

SIGNERS = {"GAD": {"key_label": "dispatch-gad"},
           "DIST-SPR": {"token": "spr-hsm", "key_label": "dispatch-spr", "pin": "9999"}}


def settings(monkeypatch, **env) -> Settings:
    for name in ("CODE", "TOKEN", "KEY_LABEL", "PIN", "SIGNERS"):
        monkeypatch.delenv(f"EOFFICE_SIGNING_OFFICE_{name}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"EOFFICE_SIGNING_OFFICE_{name.upper()}", value)
    return Settings()


@pytest.fixture
def configured(monkeypatch) -> Settings:
    """Lucknow's signer through the single-signer settings, GAD's and Sitapur's in the mapping."""
    return settings(monkeypatch, code="DIST-LKO", token="office-hsm", key_label="dispatch-lko", pin="4321",
                    signers=json.dumps(SIGNERS))


def office(path: str) -> dict:
    return {"code": path.rsplit("/", 1)[-1], "path": path, "name_en": f"office {path}"}


@pytest.mark.parametrize(("path", "whose", "signer"), [
    ("UP/DIST-LKO", "DIST-LKO", OfficeSigner(token="office-hsm", key_label="dispatch-lko", pin="4321")),
    ("UP/DIST-LKO/LKO-EST", "DIST-LKO", OfficeSigner(token="office-hsm", key_label="dispatch-lko", pin="4321")),
    ("UP/DIST-LKO/LKO-TEH-SADAR/LKO-SADAR-OFC", "DIST-LKO",
     OfficeSigner(token="office-hsm", key_label="dispatch-lko", pin="4321")),
    # token and PIN left out: the single-signer settings' token and PIN (one HSM partition)
    ("UP/GAD/GAD-EST", "GAD", OfficeSigner(token="office-hsm", key_label="dispatch-gad", pin="4321")),
    ("UP/DIST-SPR/SPR-EST", "DIST-SPR", OfficeSigner(token="spr-hsm", key_label="dispatch-spr", pin="9999")),
])
def test_a_letter_is_signed_by_its_office_or_the_nearest_office_above_it(configured, path, whose, signer):
    assert keys.office_signer_of(configured, office(path)) == (whose, signer)


def test_an_office_nearer_the_letter_wins(monkeypatch):
    state_and_tehsil = settings(monkeypatch, token="hsm", pin="1", signers=json.dumps(
        {"UP": {"key_label": "dispatch-up"}, "LKO-TEH-SADAR": {"key_label": "dispatch-sadar"}}))
    assert keys.office_signer_of(state_and_tehsil, office("UP/DIST-LKO/LKO-TEH-SADAR/LKO-SADAR-OFC"))[0] == \
        "LKO-TEH-SADAR"
    assert keys.office_signer_of(state_and_tehsil, office("UP/DIST-LKO/LKO-EST"))[0] == "UP"


def test_an_office_without_a_signer_is_refused_naming_it(configured):
    with pytest.raises(NoOfficeSigner) as refused:
        keys.office_signer_of(configured, office("UP/REV/REV-EST"))
    assert isinstance(refused.value, Conflict) and refused.value.status == 409
    assert refused.value.code == "no-office-signer" and refused.value.fields["office"] == "REV-EST"
    assert "office REV-EST" in refused.value.detail and "nothing was issued" in refused.value.detail


def test_a_single_token_without_its_office_signs_for_nobody_and_says_so(monkeypatch):
    unnamed = settings(monkeypatch, token="office-hsm", key_label="dispatch-lko", pin="4321")
    with pytest.raises(NoOfficeSigner, match="EOFFICE_SIGNING_OFFICE_CODE does not say whose signer it is"):
        keys.office_signer_of(unnamed, office("UP/DIST-SPR/SPR-EST"))
    assert settings(monkeypatch).office_signers() == {}


@pytest.mark.parametrize(("env", "message"), [
    ({"code": "DIST-LKO"}, "EOFFICE_SIGNING_OFFICE_CODE names office DIST-LKO"),
    ({"code": "GAD", "token": "t", "key_label": "k", "signers": json.dumps(SIGNERS)}, "office GAD has two signers"),
    ({"signers": json.dumps({"GAD": {"key_label": "dispatch-gad"}})}, "the signer of GAD names no token"),
    ({"token": "t", "signers": json.dumps({"GAD": {"token": "t"}})}, "key_label"),
    ({"token": "t", "signers": json.dumps({"GAD": {"key_label": "k", "slot": 1}})}, "slot"),
    ({"token": "t", "signers": json.dumps({" ": {"key_label": "k"}})}, "an office code is empty"),
    ({"token": "t", "signers": "GAD=dispatch-gad"}, "signing_office_signers"),
])
def test_signers_set_up_wrong_are_refused_when_the_settings_are_read(monkeypatch, env, message):
    with pytest.raises((ValidationError, ValueError), match=message):
        settings(monkeypatch, **env)
