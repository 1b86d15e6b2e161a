"""Sign-in, tokens and the Actor of every request.

- Access tokens: JWT (HS256, EOFFICE_TOKEN_SECRET), 15 minutes, carrying the Actor the
  directory resolved and the session id; every request also checks the session is not revoked.
- Refresh tokens: random, stored only as SHA-256, 30 days, single use: refreshing rotates them,
  and presenting a used one again revokes its whole session family.
- Sign-out revokes the session family at once, for access and refresh tokens alike."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update

from eoffice.actor import Actor
from eoffice.errors import NotSignedIn
from services.gateway.models import Text, sessions

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
ALGORITHM = "HS256"

router = APIRouter(prefix="/auth", tags=["sign-in"])
bearer = HTTPBearer(auto_error=False, description="An access token from /auth/sign-in")


class SignIn(BaseModel):
    email: Text = Field(min_length=3, max_length=200, examples=["officer@up.gov.in"])
    password: Text = Field(min_length=1, max_length=200)
    post_code: Text | None = Field(None, max_length=60, description="the post to act as; default: the first regular post")


class Refresh(BaseModel):
    refresh_token: Text = Field(min_length=20, max_length=200)


class ActAs(BaseModel):
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
    return datetime.now(timezone.utc)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(request: Request, actor: Actor, family: str | None = None) -> Tokens:
    """Opens a session (or continues a family) for the actor; returns fresh tokens."""
    state = request.app.state
    session_id, refresh = str(uuid.uuid4()), secrets.token_urlsafe(32)
    with state.db.transaction() as db:
        db.execute(sessions.insert().values(
            id=session_id, family=family or session_id, employee_id=actor.user_id, post_code=actor.post_id,
            refresh_sha256=_sha(refresh), expires_at=_now() + REFRESH_TTL))
    claims = {"sub": actor.user_id, "sid": session_id, "typ": "access", "iat": _now(),
              "exp": _now() + ACCESS_TTL, "act": actor.model_dump(mode="json")}
    return Tokens(access_token=jwt.encode(claims, state.settings.token_secret, algorithm=ALGORITHM),
                  refresh_token=refresh, expires_in=int(ACCESS_TTL.total_seconds()),
                  acting_as=actor.post_id or "", roles=sorted(actor.roles))


def current(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> tuple[Actor, str]:
    """Returns the request's Actor and session id; raises NotSignedIn for a missing, expired,
    tampered or revoked token."""
    if credentials is None:
        raise NotSignedIn("send an access token: Authorization: Bearer <token>")
    try:
        claims = jwt.decode(credentials.credentials, request.app.state.settings.token_secret,
                            algorithms=[ALGORITHM], options={"require": ["exp", "sid", "act"]})
    except jwt.ExpiredSignatureError:
        raise NotSignedIn("the access token has expired; refresh it") from None
    except jwt.InvalidTokenError:
        raise NotSignedIn("the access token is not valid") from None
    if claims.get("typ") != "access":
        raise NotSignedIn("not an access token")
    # One round trip: the session's family exists and none of it is revoked.
    family = select(sessions.c.family).where(sessions.c.id == claims["sid"]).scalar_subquery()
    with request.app.state.db.transaction() as db:
        members, revoked = db.execute(select(func.count(), func.count(sessions.c.revoked_at))
                                      .where(sessions.c.family == family)).one()
    if members == 0 or revoked:
        raise NotSignedIn("the session was signed out")
    return Actor.model_validate(claims["act"]), claims["sid"]


def actor(found: tuple[Actor, str] = Depends(current)) -> Actor:
    return found[0]


@router.post("/sign-in", response_model=Tokens, summary="Sign in with e-mail and password",
             responses={401: {"description": "wrong e-mail or password"}, 423: {"description": "account locked"}})
def sign_in(body: SignIn, request: Request) -> Tokens:
    rpc = request.app.state.rpc
    user = rpc.call("directory", "authenticate", body.email, body.password)
    actor_ = Actor.model_validate(rpc.call("directory", "actor_for", user["employee_id"], body.post_code))
    return issue(request, actor_)


@router.post("/refresh", response_model=Tokens, summary="Trade a refresh token for new tokens (once)")
def refresh(body: Refresh, request: Request) -> Tokens:
    now = _now()
    with request.app.state.db.transaction() as db:
        row = db.execute(select(sessions).where(sessions.c.refresh_sha256 == _sha(body.refresh_token))
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
    actor_ = Actor.model_validate(request.app.state.rpc.call("directory", "actor_for", row["employee_id"], row["post_code"]))
    return issue(request, actor_, family=row["family"])


@router.post("/act-as", response_model=Tokens, summary="Act as another post you hold")
def act_as(body: ActAs, request: Request, found: tuple[Actor, str] = Depends(current)) -> Tokens:
    actor_ = Actor.model_validate(request.app.state.rpc.call("directory", "actor_for", found[0].user_id, body.post_code))
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
def me(request: Request, who: Actor = Depends(actor)) -> Me:
    return Me.model_validate(request.app.state.rpc.call("directory", "whoami", who.model_dump(mode="json")))
