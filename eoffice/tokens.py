"""A signing key on a PKCS#11 token: the officer's USB token (through the signer program,
`eoffice.signer`, on the officer's own PC) or the office's server-side token (an HSM; SoftHSM2
in tests). The same code for both; it needs only python-pkcs11, asn1crypto and cryptography,
so the signer program runs without the rest of the system.

A process loads one PKCS#11 module once (python-pkcs11 keeps it for the process's life), and
SoftHSM2 reads SOFTHSM2_CONF when it is loaded."""

from __future__ import annotations

from functools import cache

from asn1crypto import x509

HASHES = {"sha256", "sha384", "sha512"}


class TokenError(Exception):
    """The token cannot sign; `reason` is one of: absent, wrong-pin, no-certificate, no-key,
    mismatched-key, failed."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@cache
def _library(module: str):
    import pkcs11

    return pkcs11.lib(module)


def signature_matches(
    cert: x509.Certificate, data: bytes, signature: bytes, *, digest_algorithm: str = "sha256"
) -> bool:
    """Whether `signature` is the RSA (PKCS#1 v1.5) or ECDSA signature of `data` by the key of `cert`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    public = serialization.load_der_public_key(cert.public_key.dump())
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[digest_algorithm]
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


class TokenKey:
    """The private key and certificate labelled `key_label` on token `token_label`. Each call
    opens a session with the PIN and closes it; the PIN is held only by this object."""

    def __init__(self, *, module: str, token_label: str, key_label: str | None, pin: str):
        self.module, self.token_label, self.key_label, self.pin = module, token_label, key_label, pin

    def _session(self):
        import pkcs11
        from pkcs11 import exceptions

        try:
            token = _library(self.module).get_token(token_label=self.token_label)
        except (exceptions.NoSuchToken, exceptions.MultipleTokensReturned) as e:
            raise TokenError("absent", f"token {self.token_label!r} is not connected") from e
        try:
            return token.open(user_pin=self.pin)
        except (exceptions.PinIncorrect, exceptions.PinInvalid, exceptions.PinLenRange) as e:
            raise TokenError("wrong-pin", f"the PIN for token {self.token_label!r} is wrong") from e
        except exceptions.PinLocked as e:
            raise TokenError("wrong-pin", f"token {self.token_label!r} is locked (too many wrong PINs)") from e
        except pkcs11.PKCS11Error as e:
            raise TokenError("failed", f"token {self.token_label!r} cannot be opened: {type(e).__name__}") from e

    def certificates(self) -> list[tuple[bytes, str, x509.Certificate]]:
        """(CKA_ID, label, certificate) of every certificate on the token (with this key label, if set)."""
        from pkcs11 import Attribute, ObjectClass

        query: dict[Attribute, object] = {Attribute.CLASS: ObjectClass.CERTIFICATE}
        if self.key_label:
            query[Attribute.LABEL] = self.key_label
        with self._session() as session:
            return [
                (obj[Attribute.ID], obj[Attribute.LABEL], x509.Certificate.load(obj[Attribute.VALUE]))
                for obj in session.get_objects(query)
            ]

    def certificate(self, wanted: x509.Certificate | None = None) -> tuple[bytes, x509.Certificate]:
        """The token's certificate (the one equal to `wanted`, when given) and its CKA_ID."""
        found = self.certificates()
        if wanted is not None:
            found = [f for f in found if f[2].dump() == wanted.dump()]
        if not found:
            which = f"certificate {wanted.subject.human_friendly}" if wanted is not None else "a certificate"
            raise TokenError("no-certificate", f"token {self.token_label!r} does not hold {which}")
        return found[0][0], found[0][2]

    def sign(self, data: bytes, digest_algorithm: str = "sha256", *, cert: x509.Certificate | None = None) -> bytes:
        """Signs `data` (hashing it on the token) with the key paired with the certificate
        (`cert`, or the token's) and checks the signature against that certificate; raises
        TokenError (mismatched-key when the key on the token is not the certificate's)."""
        import pkcs11
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

        if digest_algorithm not in HASHES:
            raise TokenError("failed", f"digest {digest_algorithm} is not supported")
        key_id, cert = self.certificate(cert)
        with self._session() as session:
            keys = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: key_id}))
            if not keys:
                raise TokenError(
                    "no-key", f"token {self.token_label!r} holds no private key for {cert.subject.human_friendly}"
                )
            key = keys[0]
            rsa = key.key_type == KeyType.RSA
            mechanism = getattr(Mechanism, f"{digest_algorithm.upper()}_{'RSA_PKCS' if rsa else 'ECDSA'}")
            try:
                signature = key.sign(data, mechanism=mechanism)
            except pkcs11.PKCS11Error as e:
                raise TokenError("failed", f"the token refused to sign: {type(e).__name__}") from e
        if not rsa:
            signature = _ecdsa_der(signature)
        if not signature_matches(cert, data, signature, digest_algorithm=digest_algorithm):
            raise TokenError(
                "mismatched-key",
                f"the key on token {self.token_label!r} does not match the "
                f"certificate of {cert.subject.human_friendly}",
            )
        return signature


def _ecdsa_der(raw: bytes) -> bytes:
    # PKCS#11 gives r||s; CMS wants the DER SEQUENCE.
    from asn1crypto.algos import DSASignature

    return DSASignature.from_p1363(raw).dump()
