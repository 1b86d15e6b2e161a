"""Domain errors: each has a stable `code` (the problem type at the gateway) and an HTTP status.

Services raise these. Every class is registered with nameko to cross RPC as itself, with its
detail and fields (which input was wrong, and why), so a caller, a service or the gateway,
catches `NotFound` rather than a generic remote error; the table lives here, once."""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance


class DomainError(Exception):
    code = "domain-error"
    status = 400
    title = "The request could not be carried out"

    def __init__(self, detail: str = "", fields: dict | None = None, **more):
        self.detail = detail or self.title
        self.fields = {**(fields or {}), **more}  # e.g. field="to_post", errors=[{field, message}]
        super().__init__(self.detail, self.fields)  # the args nameko sends across RPC

    def __str__(self) -> str:
        return self.detail


class InvalidInput(DomainError):
    code, status, title = "invalid-input", 422, "Some input is not valid"


class NotFound(DomainError):
    code, status, title = "not-found", 404, "No such thing, or not visible to you"


class Forbidden(DomainError):
    code, status, title = "forbidden", 403, "You may not do this"


class NotCurrentHolder(Forbidden):
    code, title = "not-current-holder", "Only the current holder may act on this"


class InvalidCredentials(DomainError):
    code, status, title = "invalid-credentials", 401, "E-mail or password is wrong"


class NotSignedIn(DomainError):
    code, status, title = "not-signed-in", 401, "Sign in first: the token is missing, expired or revoked"


class AccountLocked(DomainError):
    code, status, title = "account-locked", 423, "Too many failed sign-ins; try again later"


class NotHolderOfPost(Forbidden):
    code, title = "not-holder-of-post", "You do not hold that post, nor act for it"


class TooManyRequests(DomainError):
    """Raised with `retry_after` (seconds) in its fields; the gateway sends it as Retry-After."""

    code, status, title = "too-many-requests", 429, "Too many requests; try again later"


class Conflict(DomainError):
    code, status, title = "conflict", 409, "It changed meanwhile; reload and try again"


class NoOfficeSigner(Conflict):
    """No document signer (server-side key) is set up for an office nor any office above it, so
    its letters cannot be issued with the office's key: `office` in its fields names the office."""

    code, title = "no-office-signer", "No document signer is set up for this office"


class ObjectCorrupted(DomainError):
    code, status, title = "object-corrupted", 500, "A stored document does not match its recorded hash"


class Unavailable(DomainError):
    """A part is away for a moment (a service, the broker, the database): the caller should
    retry after `retry_after` seconds, with the same idempotency key."""

    code, status, title = "unavailable", 503, "A part of the system is not answering"
    RETRY_AFTER = 5

    def __init__(self, detail: str = "", fields: dict | None = None, **more):
        super().__init__(detail, {"retry_after": self.RETRY_AFTER, **(fields or {})}, **more)


class CertificateRefused(DomainError):
    """A signing certificate failed validation: `reason` in its fields says which check
    (untrusted, revoked, expired, not-yet-valid, wrong-usage, unregistered, mismatched-key)."""

    code, status, title = "certificate-refused", 422, "The certificate cannot be used to sign"


class EsignRefused(InvalidInput):
    """The Aadhaar eSign provider answered with an error (status 0): its errCode and errMsg are
    in the detail (e.g. ESP-944, the OTP failed). Here, not beside the eSign code, so that the
    gateway knows it across RPC (it does not import the signing service)."""


class Undispatched(DomainError):
    """A file (and the receipts put in it) is not closed while a letter drafted in it is
    undispatched: a draft approved but not yet issued, or a letter issued but not yet dispatched
    (rule 6). `drafts` and `letters` in its fields name them."""

    code, status, title = "undispatched-letters", 422, "A letter of this file is not dispatched yet"


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def error_by_name(name: str) -> type[DomainError] | None:
    """Returns the domain error class with this class name (as nameko reports it), or None."""
    return {cls.__name__: cls for cls in [DomainError, *_all_subclasses(DomainError)]}.get(name)


for _cls in [DomainError, *_all_subclasses(DomainError)]:
    deserialize_to_instance(_cls)
