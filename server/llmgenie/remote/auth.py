"""Who is calling: passwords, short-lived JWT access tokens, refresh and personal tokens.

- Access tokens are JWTs (HS256 only: `alg: none` and any other algorithm are refused)
  that live 15 minutes; they carry the user id and nothing secret.
- Refresh tokens (`lgr_…`) and personal access tokens (`lgp_…`, for CI, at most 90 days)
  are opaque: `<prefix>_<id>_<secret>`. Only a SHA-256 of the secret is stored; a lookup is
  by id, the comparison constant-time. A refresh token mints access tokens until it
  expires (30 days) or is revoked (`llmgenie logout`, sign-out in the editor); either kind
  stops working at once when its user is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Literal

import bcrypt
import jwt
from sqlalchemy import select

from llmgenie.remote.db import Database, Token, User

ISSUER = "llmgenie-team"
PAT_PREFIX = "lgp"
REFRESH_PREFIX = "lgr"
_BCRYPT_MAX = 72

TokenKind = Literal["access", "pat", "refresh"]


class AuthError(Exception):
    """The credentials are missing, malformed, expired, revoked or wrong; `reason` is shown
    to the client (it never contains the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    user_id: str
    email: str
    via: TokenKind
    token_id: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as handed out once: the secret is never stored or shown again."""

    token: str
    token_id: str
    expires_at: float


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8")[:_BCRYPT_MAX], bcrypt.gensalt()).decode()


def check_password(password: str, hashed: str | None) -> bool:
    if not hashed:
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8")[:_BCRYPT_MAX], hashed.encode())
    except ValueError:
        return False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _split(token: str, prefix: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or parts[0] != prefix or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class Authenticator:
    """Issues and checks every kind of credential against the database."""

    def __init__(
        self, db: Database, key: bytes, access_ttl_s: int, refresh_ttl_s: int, pat_max_days: int
    ) -> None:
        self._db = db
        self._key = key
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self.pat_max_days = pat_max_days

    # -- issuing ----------------------------------------------------------------------------

    def issue_access(self, user_id: str) -> IssuedToken:
        now = int(time.time())
        jti = uuid.uuid4().hex
        claims = {
            "sub": user_id,
            "iss": ISSUER,
            "typ": "access",
            "iat": now,
            "exp": now + self.access_ttl_s,
            "jti": jti,
        }
        return IssuedToken(jwt.encode(claims, self._key, "HS256"), jti, now + self.access_ttl_s)

    def issue_opaque(
        self, user_id: str, kind: Literal["pat", "refresh"], name: str = "", days: float = 0
    ) -> IssuedToken:
        """A new personal access token (`days` ≤ pat_max_days) or refresh token."""
        if kind == "pat":
            if not 0 < days <= self.pat_max_days:
                raise ValueError(f"a personal access token lives 1 to {self.pat_max_days} days")
            ttl = days * 86400
        else:
            ttl = self.refresh_ttl_s
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        prefix = PAT_PREFIX if kind == "pat" else REFRESH_PREFIX
        expires = time.time() + ttl
        with self._db.session() as s:
            s.add(
                Token(
                    id=token_id,
                    user_id=user_id,
                    kind=kind,
                    name=name,
                    secret_hash=_digest(secret),
                    expires_at=expires,
                )
            )
        return IssuedToken(f"{prefix}_{token_id}_{secret}", token_id, expires)

    def password_login(self, email: str, password: str) -> str:
        """The user id for valid credentials (the same error for every failure)."""
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None or user.disabled or not check_password(password, user.password_hash):
                raise AuthError("invalid email or password")
            return user.id

    def redeem_refresh(self, token: str) -> str:
        """The user id of a valid refresh token (AuthError otherwise)."""
        _, user_id = self._check_opaque(token, REFRESH_PREFIX, "refresh")
        self._active_email(user_id)
        return user_id

    def revoke_credential(self, token: str) -> bool:
        """Revoke a refresh or personal token given in full (sign-out); False if unknown."""
        for prefix in (REFRESH_PREFIX, PAT_PREFIX):
            parts = _split(token, prefix)
            if parts is None:
                continue
            token_id, secret = parts
            with self._db.session() as s:
                row = s.get(Token, token_id)
                if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
                    return False
                row.revoked_at = row.revoked_at or time.time()
                return True
        return False

    def revoke(self, user_id: str, token_id: str) -> bool:
        """Revoke one of the user's tokens; False if it is not theirs or already revoked."""
        with self._db.session() as s:
            row = s.get(Token, token_id)
            if row is None or row.user_id != user_id or row.revoked_at is not None:
                return False
            row.revoked_at = time.time()
            return True

    # -- checking ---------------------------------------------------------------------------

    def authenticate(self, credential: str) -> Principal:
        """The caller behind a bearer credential (JWT or personal access token)."""
        credential = credential.strip()
        if not credential:
            raise AuthError("missing token")
        if credential.startswith(PAT_PREFIX + "_"):
            token_id, user_id = self._check_opaque(credential, PAT_PREFIX, "pat")
            return Principal(user_id, self._active_email(user_id), "pat", token_id)
        if credential.startswith(REFRESH_PREFIX + "_"):
            raise AuthError("a refresh token cannot authenticate a request; exchange it first")
        try:
            claims = jwt.decode(
                credential,
                self._key,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {type(exc).__name__}") from exc
        if claims.get("typ") != "access":
            raise AuthError("not an access token")
        user_id = str(claims["sub"])
        return Principal(user_id, self._active_email(user_id), "access", str(claims.get("jti")))

    def _check_opaque(self, token: str, prefix: str, kind: str) -> tuple[str, str]:
        parts = _split(token, prefix)
        if parts is None:
            raise AuthError("malformed token")
        token_id, secret = parts
        with self._db.session() as s:
            row = s.get(Token, token_id)
            if row is None or row.kind != kind:
                raise AuthError("unknown token")
            if not hmac.compare_digest(row.secret_hash, _digest(secret)):
                raise AuthError("unknown token")
            if row.revoked_at is not None:
                raise AuthError("token revoked")
            if row.expires_at < time.time():
                raise AuthError("token expired")
            row.last_used_at = time.time()
            return token_id, row.user_id

    def _active_email(self, user_id: str) -> str:
        with self._db.session() as s:
            user = s.get(User, user_id)
            if user is None or user.disabled:
                raise AuthError("user disabled or removed")
            return user.email
