"""The officer's signer program: signs a prepared signature on the officer's own USB token
(PKCS#11), on the officer's PC. No browser plug-in; the PIN is asked here and never sent.

    export EOFFICE_ACCESS_TOKEN=...        # the signer token the web client shows for this request
    python -m eoffice.signer --api https://eoffice.example.gov.in/api/v1 \\
        --module /usr/lib/WatchData/ProxKey/lib/libwdpkcs_SignatureP11.so --token-label "ProxKey" REQUEST_ID

It fetches the request (`GET /signing/requests/{id}`: a green note, a letter to issue, or the
registration of your certificate, which its key signs to prove you hold it; what is signed, the
certificate, the DER of the signed attributes), shows what is being signed, asks the token's PIN, finds the
certificate on the token, signs with its key (the token hashes), checks the value against the
certificate, and hands it in (`POST /signing/requests/{id}/signature`). Exit status: 0 signed;
2 usage or network; 3 token absent; 4 wrong PIN; 5 the token lacks the certificate or its key
does not match; 6 the server refused (its problem is printed).

Needs python-pkcs11, asn1crypto, cryptography and urllib3 only (`eoffice/tokens.py`)."""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import os
import sys

from asn1crypto import pem, x509

from eoffice.tokens import TokenError, TokenKey

EXIT = {"absent": 3, "wrong-pin": 4, "no-certificate": 5, "no-key": 5, "mismatched-key": 5, "failed": 5}


def _http(method: str, url: str, token: str, *, body: dict | None = None) -> tuple[int, dict]:
    import urllib3

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if body is not None:
        headers.update({"Content-Type": "application/json", "Idempotency-Key": f"signer-{url.rsplit('/', 2)[-2]}"})
    response = urllib3.request(
        method,
        url,
        headers=headers,
        body=json.dumps(body) if body is not None else None,
        timeout=60,
        retries=urllib3.Retry(2, allowed_methods=None),
    )
    try:
        return response.status, response.json()
    except ValueError:
        return response.status, {"detail": response.data.decode(errors="replace")}


def _what(prepared: dict, cert: x509.Certificate) -> str:
    """What the officer is about to sign, in words."""
    if prepared.get("kind") == "certificate":
        return (
            f"Proving you hold the key of certificate {prepared['certificate_sha256']} "
            f"({cert.subject.human_friendly}), to register it to you: signing {prepared['challenge']}"
        )
    what = (
        f"letter {prepared['letter_number']} (draft {prepared['draft_id']}, version {prepared['version']})"
        if prepared.get("kind") == "letter"
        else f"note {prepared['seq']}"
    )
    return (
        f"Signing {what} of file {prepared.get('file_number') or prepared['file_id']} "
        f"(SHA-256 {prepared['content_sha256']}) as {cert.subject.human_friendly}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eoffice.signer", description=__doc__.split("\n\n")[0])
    parser.add_argument("request_id")
    parser.add_argument("--api", required=True, help="the e-Office API, e.g. https://host/api/v1")
    parser.add_argument(
        "--module",
        default=os.environ.get("EOFFICE_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
        help="the token's PKCS#11 library (from its driver)",
    )
    parser.add_argument("--token-label", required=True, help="the token's label")
    parser.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from standard input instead of the terminal (scripts)"
    )
    args = parser.parse_args(argv)
    access = os.environ.get("EOFFICE_ACCESS_TOKEN")
    if not access:
        print("set EOFFICE_ACCESS_TOKEN to your sign-in token", file=sys.stderr)
        return 2
    url = f"{args.api.rstrip('/')}/signing/requests/{args.request_id}"
    try:
        status, prepared = _http("GET", url, access)
    except Exception as e:  # noqa: BLE001 (any network failure is the same answer to the officer)
        print(f"cannot reach {args.api}: {e}", file=sys.stderr)
        return 2
    if status != 200:
        print(f"the server refused: {prepared.get('detail', prepared)}", file=sys.stderr)
        return 6
    cert = x509.Certificate.load(pem.unarmor(prepared["certificate"].encode())[2])
    print(_what(prepared, cert), file=sys.stderr)
    pin = (
        sys.stdin.readline().rstrip("\n") if args.pin_stdin else getpass.getpass(f"PIN for token {args.token_label}: ")
    )
    key = TokenKey(module=args.module, token_label=args.token_label, key_label=None, pin=pin)
    try:
        signature = key.sign(base64.b64decode(prepared["to_be_signed"]), prepared["digest_algorithm"], cert=cert)
    except TokenError as e:
        print(f"not signed: {e}", file=sys.stderr)
        return EXIT.get(e.reason, 5)
    finally:
        del pin, key
    status, answer = _http("POST", f"{url}/signature", access, body={"signature": base64.b64encode(signature).decode()})
    if status not in (200, 201):
        print(f"the server refused the signature: {answer.get('detail', answer)}", file=sys.stderr)
        return 6
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
