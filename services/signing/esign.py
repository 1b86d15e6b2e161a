"""Aadhaar eSign (path c of keys.py): an eSign Service Provider (ESP) signs a document digest for
the Aadhaar holder after its own OTP or biometric authentication and answers with a PKCS#7
(CMS SignedData, detached) and the one-time certificate it issued (eSign API 2.1, CCA's "e
authentication technique using Aadhaar e-KYC services").

How the exchange goes (docs/signing.md, "Aadhaar eSign"): we, the ASP, build the `<Esign>`
request with the SHA-256 of the exact bytes to sign (`request_xml`); in production it is signed
with the ASP's certificate (XMLDSig, enveloped) and POSTed by the user's browser to the ESP's
URL (form field `eSignRequest`); the ESP authenticates the person and POSTs its `<EsignResp>`
back to our `responseUrl`; `parse_response` takes the PKCS#7 out of it. `StandinEsp` plays the
ESP in tests and the demo: it signs with a test key and answers in the ESP's response shape.
It checks no ASP signature and authenticates nobody: never point production at it."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, x509

from eoffice.clock import IST
from eoffice.errors import EsignRefused, InvalidInput
from services.signing.coroutines import run_coroutine

VERSION = "2.1"
MAX_RESPONSE = 200_000  # characters; an eSign response is a few kilobytes


@dataclass(frozen=True)
class EsignResult:
    txn: str
    cms: bytes  # DER of the detached CMS SignedData
    certificate: x509.Certificate


def request_xml(
    *, asp_id: str, txn: str, digest: bytes, doc_info: str, response_url: str, now: datetime | None = None
) -> str:
    """The eSign 2.1 `<Esign>` request for one document digest (SHA-256), unsigned: production
    adds the ASP's enveloped XML signature before it leaves (docs/signing.md)."""
    root = ET.Element(
        "Esign",
        {
            "ver": VERSION,
            "sc": "Y",
            "ts": (now or datetime.now(IST)).strftime("%Y-%m-%dT%H:%M:%S"),
            "txn": txn,
            "ekycId": "",
            "ekycIdType": "A",
            "aspId": asp_id,
            "AuthMode": "1",
            "responseSigType": "pkcs7",
            "responseUrl": response_url,
        },
    )
    docs = ET.SubElement(root, "Docs")
    doc = ET.SubElement(docs, "InputHash", {"id": "1", "hashAlgorithm": "SHA256", "docInfo": doc_info[:50]})
    doc.text = digest.hex()
    return ET.tostring(root, encoding="unicode")


def _parse(xml: str, tag: str) -> ET.Element:
    if len(xml) > MAX_RESPONSE or "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise InvalidInput("not an eSign message (too long, or with a DTD)", field="response")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise InvalidInput(f"not well-formed XML: {e}", field="response") from e
    if root.tag != tag:
        raise InvalidInput(f"expected <{tag}>, got <{root.tag}>", field="response")
    return root


def parse_response(xml: str, *, txn: str) -> EsignResult:
    """The PKCS#7 and certificate of an `<EsignResp>` for transaction `txn`; raises EsignRefused
    when the ESP reports an error, InvalidInput when it is not a response to `txn`."""
    root = _parse(xml, "EsignResp")
    if root.get("txn") != txn:
        raise InvalidInput(f"this eSign response is for transaction {root.get('txn')!r}, not {txn!r}", field="response")
    if root.get("status") != "1":
        raise EsignRefused(f"the ESP did not sign: {root.get('errCode')} {root.get('errMsg')}", field="response")
    try:
        cert = x509.Certificate.load(base64.b64decode(root.findtext("UserX509Certificate", "")))
        signature = base64.b64decode(root.findtext("Signatures/DocSignature", ""))
        cms.ContentInfo.load(signature)["content"].native  # noqa: B018 (parse it all now)
        cert.native  # noqa: B018
    except (ValueError, TypeError) as e:
        raise InvalidInput(
            f"the eSign response's certificate or signature is not readable: {e}", field="response"
        ) from e
    return EsignResult(txn=txn, cms=signature, certificate=cert)


async def _timestamp_token(timestamper, signature: bytes):
    import hashlib

    return await timestamper.async_timestamp(hashlib.sha256(signature).digest(), "sha256")


def add_signature_timestamp(cms_der: bytes, timestamper) -> bytes:
    """`cms_der` with an RFC 3161 signature timestamp (over its signature value) added as an
    unsigned attribute, as CAdES-T: the ESP's PKCS#7 carries none."""
    info = cms.ContentInfo.load(cms_der)
    signer = info["content"]["signer_infos"][0]
    token = run_coroutine(_timestamp_token(timestamper, signer["signature"].native))
    attrs = list(signer["unsigned_attrs"]) if signer["unsigned_attrs"].native else []
    attrs.append(cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]}))
    signer["unsigned_attrs"] = cms.CMSAttributes(attrs)
    return info.dump(force=True)


class StandinEsp:
    """A local ESP for tests and the demo: signs each InputHash with one test key and
    certificate and answers with an `<EsignResp>` of the real shape."""

    def __init__(self, *, key_path: str, cert_path: str, chain: list[x509.Certificate]):
        self.key_path, self.cert_path, self.chain = key_path, cert_path, chain

    def answer(self, request: str) -> str:
        from pyhanko.sign.signers.pdf_cms import SimpleSigner

        root = _parse(request, "Esign")
        signer = SimpleSigner.load(self.key_path, self.cert_path, other_certs=self.chain)
        out = ET.Element(
            "EsignResp",
            {
                "ver": VERSION,
                "status": "1",
                "ts": datetime.now(IST).isoformat(),
                "txn": root.get("txn", ""),
                "resCode": root.get("txn", ""),
                "errCode": "NA",
                "errMsg": "NA",
            },
        )
        ET.SubElement(out, "UserX509Certificate").text = base64.b64encode(signer.signing_cert.dump()).decode()
        signatures = ET.SubElement(out, "Signatures")
        for doc in root.iter("InputHash"):
            signed = run_coroutine(signer.async_sign(bytes.fromhex(doc.text or ""), "sha256", is_pdf_sig=False))
            element = ET.SubElement(
                signatures, "DocSignature", {"id": doc.get("id", "1"), "sigHashAlgorithm": "SHA256", "error": ""}
            )
            element.text = base64.b64encode(signed.dump()).decode()
        return ET.tostring(out, encoding="unicode")

    def refuse(self, request: str, code: str = "ESP-944", message: str = "OTP validation failed") -> str:
        """The ESP's answer when the person could not be authenticated."""
        root = _parse(request, "Esign")
        return ET.tostring(
            ET.Element(
                "EsignResp",
                {
                    "ver": VERSION,
                    "status": "0",
                    "ts": datetime.now(IST).isoformat(),
                    "txn": root.get("txn", ""),
                    "errCode": code,
                    "errMsg": message,
                },
            ),
            encoding="unicode",
        )
