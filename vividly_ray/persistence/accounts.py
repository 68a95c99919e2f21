"""Organizations, their hashed API keys and webhook secrets, and the shared rate limit.

An API key is ``vk_<key id>_<secret>``; only the SHA-256 of the whole key is stored, so a
leaked database does not leak keys. The rate limit counts requests per organization per minute
in the database, so every Gateway replica enforces the same limit.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from vividly_ray.domain.errors import InvalidRequest, RateLimited, RequestNotFound, Unauthenticated
from vividly_ray.notify.webhooks import new_secret
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.orm import ApiKey, Organization, RateWindow, utcnow

KEY_PREFIX = "vk_"


@dataclass(frozen=True)
class CreatedKey:
    """A new key, shown once; ``webhook_secret`` is the organization's signing secret."""

    key_id: str
    key: str
    organization_id: str
    webhook_secret: str
    organization_created: bool


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    organization_id: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class SqlAccounts:
    """Organizations, API keys and rate windows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def ensure_organization(self, organization_id: str) -> tuple[str, bool]:
        """The organization's webhook secret, creating the organization if needed."""
        if not organization_id or len(organization_id) > 128 or not organization_id.isprintable():
            raise InvalidRequest("org", "must be 1-128 printable characters")
        with self._db.sessions() as session:
            found = session.get(Organization, organization_id)
            if found is not None:
                return found.webhook_secret, False
        try:
            with self._db.sessions.begin() as session:
                secret = new_secret()
                session.add(Organization(organization_id=organization_id, webhook_secret=secret))
                return secret, True
        except IntegrityError:
            return self.ensure_organization(organization_id)

    def webhook_secret(self, organization_id: str) -> str:
        secret, _ = self.ensure_organization(organization_id)
        return secret

    def create_key(self, organization_id: str) -> CreatedKey:
        secret, created = self.ensure_organization(organization_id)
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(24)}"
        with self._db.sessions.begin() as session:
            session.add(
                ApiKey(key_id=key_id, organization_id=organization_id, key_hash=hash_key(key))
            )
        return CreatedKey(key_id, key, organization_id, secret, created)

    def revoke_key(self, key_id: str) -> KeyInfo:
        with self._db.sessions.begin() as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                raise RequestNotFound(f"no API key with id {key_id}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            return KeyInfo(row.key_id, row.organization_id, row.created_at, row.revoked_at)

    def list_keys(self) -> list[KeyInfo]:
        with self._db.sessions() as session:
            rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at))
            return [KeyInfo(r.key_id, r.organization_id, r.created_at, r.revoked_at) for r in rows]

    def authenticate(self, key: str) -> str:
        """The organization of a valid, unrevoked key; ``Unauthenticated`` otherwise."""
        if not key.startswith(KEY_PREFIX):
            raise Unauthenticated("the API key is not a vividly-ray key (vk_...)")
        with self._db.sessions() as session:
            row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
            if row is None:
                raise Unauthenticated("unknown API key")
            if row.revoked_at is not None:
                raise Unauthenticated(f"API key {row.key_id} was revoked")
            return row.organization_id

    def hit(self, organization_id: str, limit_per_minute: int, now: float | None = None) -> None:
        """Count one request; raise ``RateLimited`` once the minute's budget is spent."""
        moment = time.time() if now is None else now
        window = int(moment // 60)
        for _ in range(3):
            with self._db.sessions.begin() as session:
                count = session.scalar(
                    update(RateWindow)
                    .where(
                        RateWindow.organization_id == organization_id,
                        RateWindow.window_start == window,
                    )
                    .values(count=RateWindow.count + 1)
                    .returning(RateWindow.count)
                )
                if count is None:
                    try:
                        with session.begin_nested():
                            session.add(
                                RateWindow(
                                    organization_id=organization_id, window_start=window, count=1
                                )
                            )
                        count = 1
                    except IntegrityError:
                        continue
            if count > limit_per_minute:
                retry_after = max(1, int((window + 1) * 60 - moment) + 1)
                raise RateLimited(
                    f"organization {organization_id} passed {limit_per_minute} requests a minute",
                    retry_after,
                )
            return
