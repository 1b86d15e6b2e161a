"""Signing benchmark: letters (PAdES) and notes (CAdES) signed per second, and verification time,
next to pyHanko's own signing loop on the same PDF in the same run (the ceiling).

    deploy/eoffice bench signing [--count 20]

Runs in one process against the test PKI (eoffice/tools/pki.py: root > CA > sub-CA, CRLs, OCSP
and an RFC 3161 TSA served on loopback by certomancer's animator, in a process of its own) and
a SoftHSM2 token holding the office's document signer, all made afresh in a temporary folder.
For each level the same rendered letter is signed `--count` times each way, the two ways
alternating (a load that comes and goes on a shared machine weighs on both alike):

- "pyHanko raw": `PdfSigner.sign_pdf` with the same settings, nothing else (the ceiling);
- "ours": what the signing service does for each letter (services/signing/issuing.py): the
  signer's certificate validated against the trust roots (OCSP fetched; a success stands for
  30 s, `RecentValidations`) and then `pades.sign`; for B-LTA both in one validation context, so
  the revocation answers fetched to validate are the ones embedded (as pyHanko's raw loop
  fetches them once).

Rendering a letter (WeasyPrint, PDF/A-3a) and verifying one (`pades.verify`) are timed too. The
figures go to stdout as a Markdown table, for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import date
from pathlib import Path

import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eoffice.tools import pki  # noqa: E402

ROWS = "| what | count | per second | mean | ours / raw |\n|---|---|---|---|---|"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(count: int, work) -> tuple[float, float]:
    """Runs work() `count` times; returns (per second, mean seconds)."""
    start = time.perf_counter()
    for _ in range(count):
        work()
    wall = time.perf_counter() - start
    return count / wall, wall / count


def paired(count: int, raw, ours) -> tuple[tuple[float, float], tuple[float, float]]:
    """Runs raw() and ours() alternately `count` times each (so a load that comes and goes on a
    shared machine weighs on both alike); returns (per second, mean seconds) for each."""
    spent = [0.0, 0.0]
    for _ in range(count):
        for side, work in enumerate((raw, ours)):
            start = time.perf_counter()
            work()
            spent[side] += time.perf_counter() - start
    return (count / spent[0], spent[0] / count), (count / spent[1], spent[1] / count)


def row(what: str, count: int, result: tuple[float, float], *, ceiling: tuple[float, float] | None = None) -> str:
    rate, mean = result
    share = f"{rate / ceiling[0]:.0%}" if ceiling else ""
    return f"| {what} | {count} | {rate:.1f}/s | {mean * 1000:.0f} ms | {share} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20, help="signatures per row")
    args = parser.parse_args()
    n = args.count

    with tempfile.TemporaryDirectory(prefix="eoffice-bench-signing-") as folder:
        port = free_port()
        material = pki.prepare(Path(folder) / "pki", f"http://127.0.0.1:{port}")
        conf = pki.softhsm_conf(Path(folder) / "softhsm")
        pki.add_token(conf, token=pki.OFFICE_TOKEN, pin=pki.OFFICE_TOKEN_PIN, objects=[
            (pki.OFFICE_KEY_LABEL, material.key_path("office-signer"), material.cert_path("office-signer"))])
        os.environ["SOFTHSM2_CONF"] = str(conf)  # before this process loads SoftHSM2
        server = subprocess.Popen([sys.executable, "-m", "eoffice.tools.pki", "serve", "--no-token", "--dir",
                                   str(material.directory), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if urllib3.request("GET", material.crl_url("subca"), retries=False, timeout=2).status == 200:
                        break
                except urllib3.exceptions.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the test PKI did not answer")
                time.sleep(0.3)
            print(run(material, n))
        finally:
            server.terminate()
            server.wait(timeout=20)
    return 0


def run(material: pki.PkiMaterial, n: int) -> str:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps

    from eoffice.settings import Settings
    from services.signing import keys, letters, notes, pades
    from services.signing.trust import RecentValidations, Trust

    trust = Trust.from_settings(Settings(**{
        "signing_trust_roots": str(material.roots_path), "signing_intermediates": str(material.intermediates_path)}))
    tsa = timestamps.HTTPTimeStamper(material.tsa_url)
    letter = letters.Letter(
        letterhead=letters.Letterhead("अधिष्ठान अनुभाग, सामान्य प्रशासन विभाग", "Establishment Section, GAD"),
        letter_number="D-1/2026/GAD-EST", issued_on=date.today(), title="पेंशन बकाया / Pension arrears",
        body="श्री राम प्रसाद के पेंशन बकाया का भुगतान कर दिया जाएगा।\n\nYour arrears will be paid by 15 March.",
        signer_name="सुनीता त्रिपाठी (Sunita Tripathi)", signer_designation="Section Officer (Establishment)",
        file_number="N-LTR/1/2026-GAD-EST", addressees=("Shri Ram Prasad, Aliganj, Lucknow",))
    load = "/".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [f"Signing benchmark, {n} signatures a row, one at a time; {os.cpu_count()} cores, load {load}", "", ROWS]
    lines.append(row("render a letter (WeasyPrint, PDF/A-3a, Hindi and English)", n,
                     timed(n, lambda: letters.render(letter))))
    pdf = letters.render(letter)

    officer = signers.SimpleSigner.load(str(material.key_path("officer")), str(material.cert_path("officer")),
                                        ca_chain_files=(str(material.intermediates_path),))
    token = keys.office_signer(Settings(signing_pkcs11_module=pki.SOFTHSM_MODULE,
                                        signing_office_code=pki.OFFICE_CODE,
                                        signing_office_token=pki.OFFICE_TOKEN,
                                        signing_office_key_label=pki.OFFICE_KEY_LABEL,
                                        signing_office_pin=pki.OFFICE_TOKEN_PIN),
                               {"code": pki.OFFICE_CODE, "path": f"UP/{pki.OFFICE_CODE}"}, trust.intermediates)

    def raw(signer, level: pades.Level):
        lta = level == "B-LTA"
        meta = signers.PdfSignatureMetadata(
            field_name="Signature1", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=lta, use_pades_lta=lta, validation_context=trust.context() if lta else None)
        return lambda: signers.PdfSigner(meta, signer=signer, timestamper=tsa if level != "B-B" else None).sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)), output=io.BytesIO())

    def ours(signer, level: pades.Level):
        recent = RecentValidations(ttl=30.0)  # as the service keeps one

        def work():
            # as issuing.issue does: for B-LTA one context (kept 30 s, as the raw loop keeps its
            # one) validates the signer and signs, so the OCSP/CRL answers fetched are embedded
            with recent.lent_context(trust) if level == "B-LTA" else nullcontext() as context:
                recent.validate(trust, signer.signing_cert, context=context)
                return pades.sign(pdf, signer=signer, level=level, timestamper=tsa, validation_context=context)
        return work

    signed: dict[str, bytes] = {}
    for label, signer, levels in (("officer key", officer, ("B-B", "B-T", "B-LTA")),
                                  ("server token (SoftHSM2)", token, ("B-T",))):
        for level in levels:
            ceiling, result = paired(n, raw(signer, level), ours(signer, level))
            lines.append(row(f"PDF {level}, {label}: pyHanko raw", n, ceiling))
            lines.append(row(f"PDF {level}, {label}: ours (validate + sign)", n, result, ceiling=ceiling))
            signed[level] = ours(signer, level)()

    # Notes: a detached CAdES signature with a timestamp over the note's canonical bytes.
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(material.key_path("officer").read_bytes(), password=None)
    cert = officer.signing_cert
    content = '{"body":"पेंशन बकाया स्वीकृत। Arrears approved.","seq":3}'.encode()

    def raw_note():
        return asyncio.run(officer.async_sign_general_data(io.BytesIO(content), "sha256", detached=True,
                                                           timestamper=tsa))

    note_validations = RecentValidations(ttl=30.0)  # as the service keeps one

    def our_note():
        attributes = notes.prepare(trust, cert, content, recent=note_validations)
        signature = key.sign(attributes, padding.PKCS1v15(), hashes.SHA256())  # the token's part
        return notes.finish(trust, cert, attributes=attributes, signature=signature, timestamper=tsa,
                            recent=note_validations)

    ceiling, result = paired(n, raw_note, our_note)
    lines.append(row("note (CAdES + timestamp): pyHanko raw", n, ceiling))
    lines.append(row("note: ours (prepare, token signs, finish; validation kept 30 s)", n, result, ceiling=ceiling))

    for level in ("B-T", "B-LTA"):
        lines.append(row(f"verify a {level} letter, online (OCSP/CRL fetched)", n, timed(n, lambda level=level: (
            pades.verify(signed[level], trust_roots=trust.roots, other_certs=trust.intermediates)))))
    lines.append(row("verify a B-LTA letter offline (what it carries only)", n, timed(n, lambda: pades.verify(
        signed["B-LTA"], trust_roots=trust.roots, online=False))))
    assert pades.verify(signed["B-LTA"], trust_roots=trust.roots, online=False)["valid"]
    lines.append("")
    end_load = "/".join(f"{v:.1f}" for v in os.getloadavg())
    lines.append(f"load at the end {end_load}; letter PDF {len(pdf)} bytes; signed B-LTA {len(signed['B-LTA'])} bytes; "
                 f"sha256 of the rendered letter {hashlib.sha256(pdf).hexdigest()[:12]}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
