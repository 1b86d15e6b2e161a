"""The test PKI and SoftHSM2 tokens as pytest fixtures (the PKI itself: eoffice/tools/pki.py and
pki.yml, the same one the demo serves).

    (tests/conftest.py makes `pki` and `softhsm` available to every test)

`pki` (session): a `TestPki` whose certificates carry the URLs of its loopback server (CRL,
OCSP, TSA served by certomancer's animator in a subprocess on a free port); `pki.server.stop()`
and `.start()` take it away and bring it back on the same port (offline verification).
`softhsm` (session): a `SoftHsm` with its own SOFTHSM2_CONF and token directory holding the
officers' USB tokens and the offices' server-side token; `softhsm.add_token(...)` makes more.
`register_certificate` registers a certificate as the web client and the signer program do
(upload, then the registration request signed by the certificate's key: proof of possession).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import urllib3

from eoffice.tools import pki as pki_tool
from eoffice.tools.pki import PkiMaterial
from eoffice.tools.workload import _sign
from tests.support.system import REPO, free_port, wait_until

# The officers' "USB tokens" (path a) and the offices' server-side token (path b).
OFFICER_TOKEN, OFFICER_PIN, OFFICER_KEY_LABEL = "officer-dsc", "1234", "officer"
OFFICER2_TOKEN = "officer2-dsc"  # the `officer2` certificate and key, PIN OFFICER_PIN
OFFICE_TOKEN, OFFICE_PIN, OFFICE_KEY_LABEL = pki_tool.OFFICE_TOKEN, pki_tool.OFFICE_TOKEN_PIN, pki_tool.OFFICE_KEY_LABEL


@dataclass
class PkiServer:
    """The loopback CRL/OCSP/TSA server of one PKI directory, in a process of its own."""

    material: PkiMaterial
    port: int
    process: subprocess.Popen | None = None

    def start(self) -> None:
        if self.process is not None:
            return
        log = open(self.material.directory / "server.log", "ab")  # noqa: SIM115 (the child keeps it)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "eoffice.tools.pki", "serve", "--no-token", "--dir",
             str(self.material.directory), "--port", str(self.port)],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
        wait_until(self.answers, 60, "the test PKI answering")

    def stop(self) -> None:
        """Stops the server: afterwards nothing answers on its port."""
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=20)
        self.process = None

    def answers(self) -> bool:
        try:
            return urllib3.request("GET", self.material.crl_url("subca"), retries=False, timeout=2).status == 200
        except urllib3.exceptions.HTTPError:
            return False


@dataclass
class TestPki:
    material: PkiMaterial
    server: PkiServer

    def cert_pem(self, label: str) -> bytes:
        return self.material.cert_path(label).read_bytes()

    def cert_der(self, label: str) -> bytes:
        from asn1crypto import pem
        return pem.unarmor(self.cert_pem(label))[2]

    def key_path(self, label: str) -> Path:
        return self.material.key_path(label)

    def signing_env(self) -> dict[str, str]:
        return self.material.signing_env()

    def sign(self, label: str, prepared: dict) -> str:
        """What a token holding `label`'s key hands in for a prepared request: base64 of its
        signature over the request's `to_be_signed`."""
        data = base64.b64decode(prepared["to_be_signed"])
        return base64.b64encode(_sign(self.key_path(label).read_bytes(), data, prepared["digest_algorithm"])).decode()


def register_certificate(api, headers: dict, pki: TestPki, label: str, *, key_of: str | None = None,
                         der: bool = False):
    """Registers certificate `label` (PEM, or base64 DER with `der`) to the signed-in user: the
    upload, and when the server asks for proof of possession (202, a registration request), the
    request signed by `key_of`'s key (the certificate's own by default). Returns the last answer."""
    upload = base64.b64encode(pki.cert_der(label)).decode() if der else pki.cert_pem(label).decode()
    asked = api.post("/api/v1/signing/certificates", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                     json={"certificate": upload})
    if asked.status_code != 202:
        return asked
    return api.post(f"/api/v1/signing/requests/{asked.json()['id']}/signature",
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                    json={"signature": pki.sign(key_of or label, asked.json())})


def signed_pdf(material: PkiMaterial, label: str, pdf: bytes, *, password: str | None = None,
               timestamped: bool = False) -> bytes:
    """`pdf` signed by certificate `label`'s key (a key file: no token) in an incremental update,
    the CMS carrying the chain up to the root, as any PAdES signing tool does; B-T with the
    PKI's TSA if `timestamped`. An encrypted `pdf` (pyHanko signs one: the update is encrypted
    as the file is) needs the `password` it opens with ("" for one that opens without one)."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if password is not None:
        writer.encrypt(password)
    signer = signers.SimpleSigner.load(str(material.key_path(label)), str(material.cert_path(label)),
                                       ca_chain_files=(str(material.cert_path("subca")), str(material.cert_path("ca"))))
    meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    stamper = timestamps.HTTPTimeStamper(material.tsa_url) if timestamped else None
    return signers.PdfSigner(meta, signer=signer, timestamper=stamper).sign_pdf(writer, output=io.BytesIO()).getvalue()


@dataclass
class SoftHsm:
    """A SoftHSM2 of its own (conf + token directory); `env()` is what a process needs to see it."""

    conf: Path
    module: str = pki_tool.SOFTHSM_MODULE
    tokens: dict[str, str] = field(default_factory=dict)  # token label -> user PIN

    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf)}

    def add_token(self, token: str, pin: str, objects: list[tuple[str, Path, Path]]) -> None:
        """Token `token` with, per (label, key PEM, certificate PEM), a key pair and certificate."""
        pki_tool.add_token(self.conf, token=token, pin=pin, objects=objects)
        self.tokens[token] = pin

    def service_env(self) -> dict[str, str]:
        """The signing service's settings for the offices' server-side token in this SoftHSM: the
        demo's offices' signers, as the demo has them (eoffice/tools/pki.py: OFFICE_SIGNERS)."""
        return {**self.env(), "EOFFICE_SIGNING_PKCS11_MODULE": self.module, **pki_tool.office_signers_env()}


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """The test PKI, served on loopback for the whole session (stopped at its end)."""
    port = free_port()
    material = pki_tool.prepare(tmp_path_factory.mktemp("pki"), f"http://127.0.0.1:{port}")
    server = PkiServer(material, port)
    server.start()
    try:
        yield TestPki(material, server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory, pki):
    """SoftHSM2 with the officer's token (OFFICER_TOKEN, PIN OFFICER_PIN, key and certificate
    labelled OFFICER_KEY_LABEL = the `officer` certificate), the second officer's (OFFICER2_TOKEN,
    the same PIN and label, `officer2`) and the offices' token (OFFICE_TOKEN / OFFICE_PIN: every
    demo office's document signer, Lucknow's `office-signer` = OFFICE_KEY_LABEL, GAD's `signer-gad` ...)."""
    hsm = SoftHsm(pki_tool.softhsm_conf(tmp_path_factory.mktemp("softhsm")))
    m = pki.material
    hsm.add_token(OFFICER_TOKEN, OFFICER_PIN, [(OFFICER_KEY_LABEL, m.key_path("officer"), m.cert_path("officer"))])
    hsm.add_token(OFFICER2_TOKEN, OFFICER_PIN,
                  [(OFFICER_KEY_LABEL, m.key_path("officer2"), m.cert_path("officer2"))])
    hsm.add_token(OFFICE_TOKEN, OFFICE_PIN, pki_tool.office_signer_objects(m))
    return hsm
