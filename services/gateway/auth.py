"""Sign-in, tokens and the Actor of every request.

- Access tokens: JWT (HS256, EOFFICE_TOKEN_SECRET), 15 minutes, carrying the Actor the
  directory resolved and the session id; every request also checks that the session is not
  revoked and not rotated by a refresh (so a refresh ends the access token it replaces).
- The Actor of a request is the one the directory gave for the session, kept per worker process
  (RecentActors) only while nothing that changes who holds what has happened since: every
  gateway route that makes such a change (a hand-over, a delegation, an import) counts it in the
  database before and after, and every request reads that count with its session, so the next
  request anywhere asks afresh; the directory's own events about such changes, heard by every
  worker process, empty its actors too. At most RECHECK seconds old, and never from another
  day. See docs/security.md.
- Refresh tokens: random, stored only as an HMAC under the token secret (so a new secret ends
  every session), 30 days, single use: refreshing rotates them, and presenting a used one
  again revokes its whole session family.
- Sign-out revokes the session family at once, for access and refresh tokens alike.
- Sign-in is rate-limited per client address and per e-mail (services/gateway/limits.py); the
  directory locks out one client address for one account after repeated wrong passwords.
- Signer tokens: an access token with a `scope` claim naming one pending signature request,
  for the signer program on the officer's PC (`issue_signer_token`). It reaches only the two
  endpoints that program uses, for that request (Forbidden elsewhere), lives at most
  SIGNER_TTL and never past the request's expiry, and belongs to the session that asked for it:
  signing out ends it; the web client's refreshes do not."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, exists, select, update

from eoffice.actor import Actor
from eoffice.clock import today
from eoffice.errors import Forbidden, NotHolderOfPost, NotSignedIn
from services.gateway import limits, problems
from services.gateway.models import RequestModel, Text, directory_changes, directory_changes_seen, sessions

ACCESS_TTL = timedelta(minutes=15)
SIGNER_TTL = timedelta(minutes=10)
SIGNER_SCOPE = "signing-request:"
# The endpoints the signer program (eoffice/signer.py) calls, marked by `signer_may_call`: all a
# signer token may reach, for the request it names (path parameter `request_id`).
SIGNER_ENDPOINTS: set = set()
REFRESH_TTL = timedelta(days=30)
ALGORITHM = "HS256"
RECHECK = 30.0  # seconds an actor the directory gave may be used before it is asked again

router = APIRouter(prefix="/auth", tags=["sign-in"])
bearer = HTTPBearer(auto_error=False, description="An access token from /auth/sign-in")


class SignIn(RequestModel):
    email: Text = Field(min_length=3, max_length=200, examples=["officer@up.gov.in"])
    password: Text = Field(min_length=1, max_length=200)
    post_code: Text | None = Field(None, max_length=60,
                                   description="the post to act as; default: the first regular post")


class Refresh(RequestModel):
    refresh_token: Text = Field(min_length=20, max_length=200)


class ActAs(RequestModel):
    post_code: Text = Field(min_length=1, max_length=60)


class PostHeld(BaseModel):
    code: str
    office_code: str
    designation_en: str
    designation_hi: str
    roles: list[str]
    charge: str
    delegated_posts: list[str]


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    acting_as: str
    roles: list[str]


class Me(BaseModel):
    employee_id: str
    name_en: str
    name_hi: str
    email: str
    mobile: str
    acting_as: str
    posts: list[PostHeld]


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(request: Request, refresh_token: str) -> str:
    """What is stored of a refresh token: its HMAC-SHA256 under the token secret, so that a new
    secret ends every session (access tokens no longer verify, refresh tokens are unknown)."""
    key = request.app.state.settings.token_signing_secret().encode()
    return hmac.new(key, refresh_token.encode(), hashlib.sha256).hexdigest()


def issue(request: Request, actor: Actor, family: str | None = None) -> Tokens:
    """Opens a session (or continues a family) for the actor; returns fresh tokens."""
    state = request.app.state
    session_id, refresh = str(uuid.uuid4()), secrets.token_urlsafe(32)
    with state.db.transaction() as db:
        db.execute(sessions.insert().values(
            id=session_id, family=family or session_id, employee_id=actor.user_id, post_code=actor.post_id,
            refresh_sha256=_digest(request, refresh), expires_at=_now() + REFRESH_TTL))
    claims = {"sub": actor.user_id, "sid": session_id, "typ": "access", "iat": _now(),
              "exp": _now() + ACCESS_TTL, "act": actor.model_dump(mode="json")}
    return Tokens(access_token=jwt.encode(claims, state.settings.token_signing_secret(), algorithm=ALGORITHM),
                  refresh_token=refresh, expires_in=int(ACCESS_TTL.total_seconds()),
                  acting_as=actor.post_id or "", roles=sorted(actor.roles))


def issue_signer_token(request: Request, *, actor: Actor, session_id: str, request_id: str,
                       request_expires: datetime) -> tuple[str, datetime]:
    """A token for the signer program: only the signer's endpoints, only for `request_id`,
    until SIGNER_TTL from now or the request's expiry, whichever comes first; in the session
    `session_id`. Returns the token and when it expires."""
    now = _now()
    expires = min(now + SIGNER_TTL, request_expires)
    claims = {"sub": actor.user_id, "sid": session_id, "typ": "access", "iat": now, "exp": expires,
              "act": actor.model_dump(mode="json"), "scope": SIGNER_SCOPE + request_id}
    return jwt.encode(claims, request.app.state.settings.token_signing_secret(), algorithm=ALGORITHM), expires


def signer_may_call(endpoint):
    """Marks an endpoint the signer program calls: a signer token may reach it for its request."""
    SIGNER_ENDPOINTS.add(endpoint)
    return endpoint


def _within_scope(request: Request, scope: str) -> None:
    """Raises Forbidden unless the request is one a token of `scope` may make."""
    allowed = (scope.startswith(SIGNER_SCOPE)
               and request.scope.get("endpoint") in SIGNER_ENDPOINTS
               and request.path_params.get("request_id") == scope.removeprefix(SIGNER_SCOPE))
    if not allowed:
        raise Forbidden("this token may only fetch and sign its own signature request (the signer program); "
                        "use your sign-in token for anything else")


def verified_claims(request: Request, token: str) -> dict:
    """Returns the claims of a signed, unexpired access token, without asking whether its
    session still stands (`current` does); raises NotSignedIn."""
    try:
        claims = jwt.decode(token, request.app.state.settings.token_signing_secret(),
                            algorithms=[ALGORITHM], options={"require": ["exp", "sid", "act"]})
    except jwt.ExpiredSignatureError:
        raise NotSignedIn("the access token has expired; refresh it") from None
    except jwt.InvalidTokenError:
        raise NotSignedIn("the access token is not valid") from None
    if claims.get("typ") != "access":
        raise NotSignedIn("not an access token")
    if "scope" in claims:
        _within_scope(request, claims["scope"])
    return claims


# One round trip: this token's own session row (`sid`: none when its session is gone), whether a
# refresh rotated it, and whether any row of its family is revoked (a sign-out or a replayed
# refresh token revokes the whole family, and a row a refresh adds while that happens is in it
# too). It also reads the count of directory changes, for the actor kept for the session
# (`actor`). The family is asked through an index of its revoked rows only, so the check costs the
# same however long the session: a family gains a row every refresh (about 32 in a working day of
# 15-minute access tokens), and counting its rows on every request took 1.5 ms of PostgreSQL's CPU
# for a family of 1,000 (`deploy/eoffice bench sessions`). Built once (`eoffice.db`, "built once").
revoked_member = sessions.alias("revoked_member")
SESSION_STANDS = select(
    sessions.c.rotated_at.is_not(None).label("refreshed"),
    exists()
    .where(revoked_member.c.family == sessions.c.family, revoked_member.c.revoked_at.is_not(None))
    .label("revoked"),
    select(directory_changes_seen.c.last_value).scalar_subquery().label("directory_changes"),
).where(sessions.c.id == bindparam("sid"))


def current(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> tuple[Actor, str]:
    """Returns the Actor in the request's token and its session id; raises NotSignedIn for a
    missing, expired, tampered or revoked token, or one a refresh has replaced (a signer token
    outlives refreshes), Forbidden for a signer token outside its scope."""
    if credentials is None:
        raise NotSignedIn("send an access token: Authorization: Bearer <token>")
    claims = verified_claims(request, credentials.credentials)
    with request.app.state.db.autocommit() as db:
        session = db.execute(SESSION_STANDS, {"sid": claims["sid"]}).first()
    if session is None or session.revoked:
        raise NotSignedIn("the session was signed out")
    request.state.directory_changes = session.directory_changes
    if session.refreshed and "scope" not in claims:
        raise NotSignedIn("this access token was replaced by a refresh; use the new one")
    return Actor.model_validate(claims["act"]), claims["sid"]


class RecentActors:
    """The actor of each session as the directory last resolved it (or why it refused): a bounded
    cache of one worker process, shared by its request threads. An entry serves while the count
    of directory changes is the one it was made under, on the office day it was made, for at
    most RECHECK seconds, and only while `watching()` says the process hears the directory's
    events (each empties the cache: `clear`); until it is set, nothing is kept. An answer asked
    for before the last `clear` is not kept (`generation`): it may predate the change."""

    def __init__(self, size: int = 10_000):
        self._seen: OrderedDict[str, tuple[float, int, object, Actor | str]] = OrderedDict()
        self._size, self._lock = size, threading.Lock()
        self.watching: Callable[[], bool] = lambda: False
        self.generation = 0  # how many times it was emptied

    def get(self, session_id: str, *, changes: int) -> Actor | str | None:
        with self._lock:
            found = self._seen.get(session_id)
        if found is None or not self.watching():
            return None
        at, seen_changes, day, value = found
        return value if seen_changes == changes and day == today() and time.monotonic() - at <= RECHECK else None

    def put(self, session_id: str, value: Actor | str, *, changes: int, generation: int) -> None:
        """Keeps `value`, asked for when `generation` was current, unless emptied since."""
        with self._lock:
            if generation != self.generation:
                return
            self._seen[session_id] = (time.monotonic(), changes, today(), value)
            self._seen.move_to_end(session_id)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)

    def clear(self, *_) -> None:
        with self._lock:
            self._seen.clear()
            self.generation += 1


def actor(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Actor:
    """Returns the Actor of the request as the directory sees it now (see RecentActors for when
    it is asked again). Raises NotHolderOfPost (403) once the post in the token is no longer the
    user's (handed over), and reflects delegations given or ended since the token was issued.
    It checks the token itself (`current`), in the same worker thread: one hop fewer."""
    token_actor, session_id = current(request, credentials)
    recent: RecentActors = request.app.state.actors
    changes = request.state.directory_changes
    known, generation = recent.get(session_id, changes=changes), recent.generation
    if known is None:
        try:
            known = Actor.model_validate(request.app.state.rpc.call(
                "directory", "actor_for", token_actor.user_id, token_actor.post_id))
        except NotHolderOfPost as exc:
            known = f"{exc.detail}; sign in again or act as a post you hold"
        recent.put(session_id, known, changes=changes, generation=generation)
    if isinstance(known, str):
        raise NotHolderOfPost(known)
    return known


@contextmanager
def changing_directory(request: Request) -> Iterator[None]:
    """Wraps a directory call that may change who holds what: the count of directory changes is
    taken before it (every kept actor stops serving) and after it, whatever came of it (an actor
    asked for while it ran may predate its commit), so the next request through any gateway
    process asks the directory afresh."""
    def count():
        with request.app.state.db.transaction() as db:
            db.execute(select(directory_changes.next_value()))
    count()
    try:
        yield
    finally:
        count()


@router.post("/sign-in", response_model=Tokens, summary="Sign in with e-mail and password",
             responses={401: {"description": "wrong e-mail or password"},
                        423: {"description": "locked for this client after repeated wrong passwords"},
                        **problems.RATE_LIMITED})
def sign_in(body: SignIn, request: Request) -> Tokens:
    client = limits.client_address(request)
    limits.hit(request, ("sign-in-client", client), ("sign-in-account", body.email.strip().lower()))
    rpc = request.app.state.rpc
    user = rpc.call("directory", "authenticate", body.email, body.password, client)
    actor_ = Actor.model_validate(rpc.call("directory", "actor_for", user["employee_id"], body.post_code))
    return issue(request, actor_)


@router.post("/refresh", response_model=Tokens, summary="Trade a refresh token for new tokens (once)")
def refresh(body: Refresh, request: Request) -> Tokens:
    now = _now()
    with request.app.state.db.transaction() as db:
        row = db.execute(select(sessions).where(sessions.c.refresh_sha256 == _digest(request, body.refresh_token))
                         .with_for_update()).mappings().first()
        if row is None:
            raise NotSignedIn("unknown refresh token")
        if row["rotated_at"] is not None or row["revoked_at"] is not None:
            # A used token presented again: someone has a copy. End the whole family.
            db.execute(update(sessions).where(sessions.c.family == row["family"]).values(revoked_at=now))
            reused = True
        else:
            reused = False
            if row["expires_at"] <= now:
                raise NotSignedIn("the refresh token has expired; sign in again")
            db.execute(update(sessions).where(sessions.c.id == row["id"]).values(rotated_at=now))
    if reused:
        raise NotSignedIn("this refresh token was already used; the session is ended, sign in again")
    # The posting may have ended since: the directory resolves the actor afresh.
    actor_ = Actor.model_validate(request.app.state.rpc.call("directory", "actor_for", row["employee_id"],
                                                             row["post_code"]))
    return issue(request, actor_, family=row["family"])


@router.post("/act-as", response_model=Tokens, summary="Act as another post you hold")
def act_as(body: ActAs, request: Request, found: tuple[Actor, str] = Depends(current)) -> Tokens:
    actor_ = Actor.model_validate(request.app.state.rpc.call("directory", "actor_for", found[0].user_id,
                                                             body.post_code))
    _revoke(request, found[1])
    return issue(request, actor_)


@router.post("/sign-out", status_code=204, summary="End this session now")
def sign_out(request: Request, found: tuple[Actor, str] = Depends(current)) -> None:
    _revoke(request, found[1])


def _revoke(request: Request, session_id: str) -> None:
    with request.app.state.db.transaction() as db:
        family = db.execute(select(sessions.c.family).where(sessions.c.id == session_id)).scalar()
        db.execute(update(sessions).where(sessions.c.family == family).values(revoked_at=_now()))


@router.get("/me", response_model=Me, summary="Who you are and which posts you hold")
def me(request: Request, found: tuple[Actor, str] = Depends(current)) -> Me:
    # From the session alone: who has lost the post they signed in as still learns what they hold.
    return Me.model_validate(request.app.state.rpc.call("directory", "whoami", found[0].model_dump(mode="json")))
