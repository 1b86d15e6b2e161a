"""The demo and test PKI: a hierarchy shaped like CCA India's (root > CA > sub-CA > officers'
DSCs, the offices' document signers), with its CRLs, an OCSP responder and an RFC 3161 time-stamping
authority served on loopback by certomancer's animator, and SoftHSM2 tokens holding keys.

Never for production: production trusts CCA India's real roots (docs/signing.md). The demo runs

    python -m eoffice.tools.pki serve            # EOFFICE_PKI_DIR, EOFFICE_PKI_PORT (8790)

which keeps its keys (generated once), certificates and the offices' SoftHSM2 token under
EOFFICE_PKI_DIR and serves the PKI on 127.0.0.1:EOFFICE_PKI_PORT until stopped; `python -m
eoffice.tools.pki env` prints the EOFFICE_SIGNING_* and SOFTHSM2_CONF lines the signing
service needs for it. Tests use tests/support/pki.py, which drives the same functions.

The certificates are built from `pki.yml` with the server's URL as prefix, so every certificate
carries the CRL and OCSP URLs of the server that really runs; certomancer's output is a pure
function of the keys, the YAML and that URL, so the serving process and any other process
that loads the same directory see the same certificates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CONFIG = Path(__file__).with_name("pki.yml")
ARCH = "eoffice"
DEFAULT_PORT = 8790
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
# The demo's server-side token (path b), holding every office's document signer. The demo's
# offices that issue letters, each with its signer (the label of its certificate in pki.yml, and
# of its key and certificate on the token), each certificate naming its office; an office below
# one of them (a section, a tehsil) has its letters signed by that office's signer. Lucknow's is
# the one of the single-signer settings (EOFFICE_SIGNING_OFFICE_CODE, _TOKEN, _KEY_LABEL, _PIN).
OFFICE_TOKEN, OFFICE_TOKEN_PIN, OFFICE_KEY_LABEL = "eoffice-office", "4321", "office-signer"
OFFICE_CODE = "DIST-LKO"
OFFICE_SIGNERS = {
    "DIST-LKO": OFFICE_KEY_LABEL,
    "DIST-SPR": "signer-spr",
    "GAD": "signer-gad",
    "REV": "signer-rev",
    "REV-BOR": "signer-bor",
}
# Officers' and signers' certificates a test or the demo may use, each with a key of its own.
END_ENTITIES = (
    "officer",
    "officer2",
    "officer3",  # registered and unregistered by a browser test of its own
    "officer-revoked",
    "officer-expired",
    "officer-wrong-usage",
    "esign-officer",
    *OFFICE_SIGNERS.values(),
)
CERTS = ("root", "ca", "subca", "subca-ocsp", "tsa", *END_ENTITIES)


@dataclass(frozen=True)
class PkiMaterial:
    """Where one PKI's files are and what URLs its server answers on."""

    directory: Path
    url: str  # e.g. http://127.0.0.1:8790, no trailing slash

    def cert_path(self, label: str) -> Path:
        return self.directory / "certs" / f"{label}.pem"

    def key_path(self, label: str) -> Path:
        """The private key, PKCS#8 PEM without a password (what softhsm2-util --import takes)."""
        return self.directory / "keys" / f"{label}.key.pem"

    @property
    def roots_path(self) -> Path:
        return self.directory / "certs" / "roots.pem"

    @property
    def intermediates_path(self) -> Path:
        return self.directory / "certs" / "intermediates.pem"

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.url}/{ARCH}/ocsp/subca"

    def crl_url(self, issuer: str = "subca") -> str:
        return f"{self.url}/{ARCH}/crls/{issuer}/latest.crl"

    def signing_env(self) -> dict[str, str]:
        """The signing service's settings for this PKI (see services/signing/settings.py)."""
        return {
            "EOFFICE_SIGNING_TRUST_ROOTS": str(self.roots_path),
            "EOFFICE_SIGNING_INTERMEDIATES": str(self.intermediates_path),
            "EOFFICE_SIGNING_TSA_URL": self.tsa_url,
        }


def _generate_keys(directory: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    keys = directory / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    for label in ("root", "ca", "subca", "subca-ocsp", "tsa", *END_ENTITIES):
        path = keys / f"{label}.key.pem"
        if path.exists():
            continue
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)


def load_config(material: PkiMaterial):
    """certomancer's view of this PKI (keys must exist: see `prepare`)."""
    from certomancer.registry import CertomancerConfig

    return CertomancerConfig.from_file(
        str(CONFIG), key_search_dir=str(material.directory), external_url_prefix=material.url
    )


def prepare(directory: Path | str, url: str) -> PkiMaterial:
    """Generates the keys (once) and writes every certificate, the trust roots and the
    intermediates as PEM under `directory`; returns where they are. Safe to run again."""
    from asn1crypto import pem

    material = PkiMaterial(Path(directory), url.rstrip("/"))
    _generate_keys(material.directory)
    arch = load_config(material).get_pki_arch(ARCH)
    (material.directory / "certs").mkdir(exist_ok=True)

    def armor(label: str) -> bytes:
        return pem.armor("CERTIFICATE", arch.get_cert(label).dump())

    for label in CERTS:
        material.cert_path(label).write_bytes(armor(label))
    material.roots_path.write_bytes(armor("root"))
    material.intermediates_path.write_bytes(armor("ca") + armor("subca"))
    return material


def wsgi_app(material: PkiMaterial):
    """The animator answering OCSP, CRL, TSA and certificate requests for this PKI."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore

    config = load_config(material)
    return Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False, allow_time_override=False)


def serve(material: PkiMaterial, port: int) -> None:
    """Serves the PKI on 127.0.0.1:`port` until the process ends."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, wsgi_app(material), threaded=True)
    print(f"PKI serving on {material.url}", flush=True)
    server.serve_forever()


# --- SoftHSM2 -------------------------------------------------------------------------------


def softhsm_conf(token_dir: Path) -> Path:
    """A SoftHSM2 configuration of its own under `token_dir` (tokens in token_dir/tokens)."""
    (token_dir / "tokens").mkdir(parents=True, exist_ok=True)
    conf = token_dir / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {token_dir / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n"
    )
    return conf


def add_token(
    conf: Path, *, token: str, pin: str, objects: list[tuple[str, Path, Path]], so_pin: str = "87654321"
) -> None:
    """Creates token `token` (user PIN `pin`) in the SoftHSM2 of `conf` and imports, for each
    (label, key PEM, certificate PEM), the key pair and the certificate under that label (the
    same CKA_ID for the three objects). The key and the certificate need not match: a test of
    a mismatching token builds one that way."""
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", token, "--pin", pin, "--so-pin", so_pin],
        env=env,
        check=True,
        capture_output=True,
    )
    for index, (label, key, _cert) in enumerate(objects, start=1):
        subprocess.run(
            [
                "softhsm2-util",
                "--import",
                str(key),
                "--token",
                token,
                "--label",
                label,
                "--id",
                f"{index:02x}",
                "--pin",
                pin,
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    # softhsm2-util imports keys only; certificates go in through PKCS#11 in a process of their
    # own (a process loads SoftHSM2 with one configuration for its whole life).
    args = [
        arg for index, (label, _key, cert) in enumerate(objects, start=1) for arg in (f"{label}={index:02x}={cert}",)
    ]
    subprocess.run(
        [sys.executable, "-m", "eoffice.tools.pki", "import-certs", "--token", token, "--pin", pin, *args],
        env=env,
        check=True,
        capture_output=True,
    )


def _import_certs(token_label: str, pin: str, specs: list[str]) -> None:
    import pkcs11
    from asn1crypto import pem, x509
    from pkcs11 import Attribute, CertificateType, ObjectClass

    lib = pkcs11.lib(os.environ.get("EOFFICE_PKCS11_MODULE", SOFTHSM_MODULE))
    token = lib.get_token(token_label=token_label)
    with token.open(user_pin=pin, rw=True) as session:
        for spec in specs:
            label, key_id, path = spec.split("=", 2)
            data = Path(path).read_bytes()
            if pem.detect(data):
                _, _, data = pem.unarmor(data)
            cert = x509.Certificate.load(data)
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: label,
                    Attribute.ID: bytes.fromhex(key_id),
                    Attribute.SUBJECT: cert.subject.dump(),
                    Attribute.ISSUER: cert.issuer.dump(),
                    Attribute.SERIAL_NUMBER: cert["tbs_certificate"]["serial_number"].dump(),
                    Attribute.VALUE: cert.dump(),
                }
            )


def office_signer_objects(material: PkiMaterial) -> list[tuple[str, Path, Path]]:
    """What the office token holds: (label, key PEM, certificate PEM) of every office's signer."""
    return [(label, material.key_path(label), material.cert_path(label)) for label in OFFICE_SIGNERS.values()]


def office_token(material: PkiMaterial) -> Path:
    """The demo's server-side token (every office's document signer, key and certificate) under
    the material directory, created once (again when the demo's signers change: a token made
    before it held every office's signer); returns its SOFTHSM2_CONF."""
    token_dir = material.directory / "softhsm"
    marker = token_dir / "provisioned"
    conf = softhsm_conf(token_dir)
    wanted = " ".join(OFFICE_SIGNERS.values()) + "\n"
    if not marker.exists() or marker.read_text() != wanted:
        subprocess.run(
            ["softhsm2-util", "--delete-token", "--token", OFFICE_TOKEN],
            env={**os.environ, "SOFTHSM2_CONF": str(conf)},
            check=False,
            capture_output=True,
        )
        add_token(conf, token=OFFICE_TOKEN, pin=OFFICE_TOKEN_PIN, objects=office_signer_objects(material))
        marker.write_text(wanted)
    return conf


def office_signers_env() -> dict[str, str]:
    """The signing service's settings for the demo's office signers on OFFICE_TOKEN: Lucknow's
    through the single-signer settings, the others' in EOFFICE_SIGNING_OFFICE_SIGNERS."""
    others = {code: {"key_label": label} for code, label in OFFICE_SIGNERS.items() if code != OFFICE_CODE}
    return {
        "EOFFICE_SIGNING_OFFICE_TOKEN": OFFICE_TOKEN,
        "EOFFICE_SIGNING_OFFICE_KEY_LABEL": OFFICE_SIGNERS[OFFICE_CODE],
        "EOFFICE_SIGNING_OFFICE_PIN": OFFICE_TOKEN_PIN,
        "EOFFICE_SIGNING_OFFICE_CODE": OFFICE_CODE,
        "EOFFICE_SIGNING_OFFICE_SIGNERS": json.dumps(others, separators=(",", ":")),
    }


def demo_env(material: PkiMaterial, conf: Path) -> dict[str, str]:
    """Every variable the signing service needs to use the demo PKI and the office token."""
    return {
        **material.signing_env(),
        "SOFTHSM2_CONF": str(conf),
        "EOFFICE_SIGNING_PKCS11_MODULE": SOFTHSM_MODULE,
        **office_signers_env(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eoffice.tools.pki", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "env"):
        one = sub.add_parser(name)
        one.add_argument("--dir", default=os.environ.get("EOFFICE_PKI_DIR", "/var/lib/eoffice/pki"))
        one.add_argument("--port", type=int, default=int(os.environ.get("EOFFICE_PKI_PORT", DEFAULT_PORT)))
        one.add_argument("--no-token", action="store_true", help="do not create the offices' SoftHSM2 token")
    certs = sub.add_parser("import-certs", help="(internal) certificates into a SoftHSM2 token")
    certs.add_argument("--token", required=True)
    certs.add_argument("--pin", required=True)
    certs.add_argument("specs", nargs="+", help="LABEL=HEXID=CERT.pem")
    args = parser.parse_args(argv)
    if args.command == "import-certs":
        _import_certs(args.token, args.pin, args.specs)
        return 0
    material = prepare(args.dir, f"http://127.0.0.1:{args.port}")
    conf = None if args.no_token else office_token(material)
    if args.command == "env":
        env = demo_env(material, conf) if conf else material.signing_env()
        for name, value in env.items():
            print(f"{name}={value}")
        return 0
    serve(material, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
