"""Sealing: what names a member is kept at rest only as a keyed hash or a ciphertext.

Two secrets, both from the Kubernetes Secret (never the database, logs or spans):

* the **lookup key** (``VEIL_SEAL_LOOKUP_KEY``): HMAC-SHA256 key of the
  *lookup hashes* a row is found by (a member by (community, Telegram user), a
  queued message's chat). A Telegram id has at most 52 bits, so only a keyed
  hash keeps it from being brute-forced out of a dump.
* the **master keys** (``VEIL_SEAL_MASTER_KEYS``, ``id:base64url-key,…``, the
  first one current): they only ever wrap *data keys* (envelope encryption).
  Every value is encrypted with AES-256-GCM under a data key; the data key is
  stored wrapped by the current master key, next to the master key's id. Every
  key listed can unwrap, so a rotation (``veil keys rotate``) re-wraps data keys
  under the new one while processes keep serving with both.

Associated data binds each ciphertext to its row and purpose (a sealed chat id
copied into another member's row does not open). A member's data key is stored
on the member's row only: deleting the row destroys it (crypto-erasure).

Formats (all bytes, stored as ``bytea``)::

    wrapped key  = 0x01 | len(kid) | kid | nonce(12) | AESGCM(master, dek, "dek|"+ad)
    sealed value = 0x02 | nonce(12) | AESGCM(dek, plaintext, ad)       (key kept apart)
    envelope     = 0x03 | len(wrapped) | wrapped key | sealed value    (self-contained)

Wrong keys are refused at start (:func:`verify_keys`): each schema keeps a
key-check value per master key id and one for the lookup key (``seal_keys``),
so a process given another key stops before it writes anything with it. A key
no data is under any more is *retired* by ``veil keys rotate``, not forgotten:
it may leave the settings, and its id cannot come back as another key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import text

MASTER_KEYS_SETTING = "VEIL_SEAL_MASTER_KEYS"
LOOKUP_KEY_SETTING = "VEIL_SEAL_LOOKUP_KEY"

_WRAPPED, _SEALED, _ENVELOPE = 0x01, 0x02, 0x03
_NONCE = 12
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
#: The key-check row of the lookup key (master key ids cannot be this).
LOOKUP_CHECK_ID = "~lookup"
_CHECK_PLAINTEXT = b"veil seal key check v1"


class SealingError(Exception):
    """A key is missing, malformed, or not the one the data was sealed with."""


class SealingSettings(BaseSettings):
    """The keys of sealed data (see the module docstring)."""

    model_config = SettingsConfigDict(env_prefix="VEIL_", extra="ignore")

    seal_master_keys: SecretStr | None = Field(
        default=None,
        description="Master keys, 'id:base64url(32 bytes),…'; the first wraps new data "
        "keys, every one listed can unwrap (rotation).",
    )
    seal_lookup_key: SecretStr | None = Field(
        default=None, description="HMAC key of lookup hashes (at least 32 characters)."
    )

    def keyring(self) -> Keyring:
        """The keys, parsed; raises SealingError naming the setting when one is wrong."""
        if self.seal_master_keys is None or not self.seal_master_keys.get_secret_value():
            raise SealingError(f"{MASTER_KEYS_SETTING} is not set: sealed data cannot be read")
        if self.seal_lookup_key is None or not self.seal_lookup_key.get_secret_value():
            raise SealingError(f"{LOOKUP_KEY_SETTING} is not set: members cannot be found")
        return Keyring.parse(
            self.seal_master_keys.get_secret_value(), self.seal_lookup_key.get_secret_value()
        )


def _b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def new_master_key() -> str:
    """A fresh master key, base64url (for ``veil keys new`` and dev stacks)."""
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


@dataclass(frozen=True)
class Keyring:
    """Master keys (the first one current) and the lookup key of one deployment."""

    current: str
    masters: dict[str, AESGCM]
    lookup_key: bytes

    @classmethod
    def parse(cls, master_keys: str, lookup_key: str) -> Keyring:
        """Parse ``id:key,…`` and the lookup key; SealingError names a wrong setting."""
        masters: dict[str, AESGCM] = {}
        order: list[str] = []
        for item in (part.strip() for part in master_keys.split(",")):
            if not item:
                continue
            kid, sep, encoded = item.partition(":")
            if not sep or not _KID.match(kid) or kid == LOOKUP_CHECK_ID:
                raise SealingError(
                    f"{MASTER_KEYS_SETTING}: each entry must be 'id:base64url-key' "
                    "with an id of letters, digits, '-' or '_'"
                )
            try:
                raw = _b64decode(encoded)
            except (binascii.Error, ValueError) as error:
                raise SealingError(f"{MASTER_KEYS_SETTING}: key {kid!r} is not base64") from error
            if len(raw) != 32:
                raise SealingError(f"{MASTER_KEYS_SETTING}: key {kid!r} must be 32 bytes")
            if kid in masters:
                raise SealingError(f"{MASTER_KEYS_SETTING}: key id {kid!r} listed twice")
            masters[kid] = AESGCM(raw)
            order.append(kid)
        if not order:
            raise SealingError(f"{MASTER_KEYS_SETTING} lists no key")
        if len(lookup_key) < 32:
            raise SealingError(f"{LOOKUP_KEY_SETTING} must be at least 32 characters")
        return cls(order[0], masters, lookup_key.encode())

    # -- lookup hashes ---------------------------------------------------------

    def lookup(self, purpose: str, *parts: object) -> bytes:
        """The keyed hash (16 bytes) a row is found by, e.g. ``lookup("member", c, u)``."""
        message = "\x1f".join((purpose, *(str(part) for part in parts))).encode()
        return hmac.new(self.lookup_key, message, hashlib.sha256).digest()[:16]

    # -- data keys -------------------------------------------------------------

    def new_data_key(self, ad: bytes) -> tuple[bytes, bytes]:
        """A fresh data key and its wrapping under the current master key."""
        dek = AESGCM.generate_key(bit_length=256)
        return dek, self.wrap(dek, ad)

    def wrap(self, dek: bytes, ad: bytes) -> bytes:
        """``dek`` wrapped by the current master key, bound to ``ad``."""
        kid = self.current.encode()
        nonce = os.urandom(_NONCE)
        wrapped = self.masters[self.current].encrypt(nonce, dek, b"dek|" + ad)
        return bytes((_WRAPPED, len(kid))) + kid + nonce + wrapped

    def unwrap(self, wrapped: bytes, ad: bytes) -> bytes:
        """The data key inside ``wrapped``; SealingError if no key here opens it."""
        kid, rest = _split_wrapped(wrapped)
        master = self.masters.get(kid)
        if master is None:
            raise SealingError(f"master key {kid!r} is not in {MASTER_KEYS_SETTING}")
        try:
            return master.decrypt(rest[:_NONCE], rest[_NONCE:], b"dek|" + ad)
        except InvalidTag as error:
            raise SealingError(f"data key under {kid!r} does not open") from error

    @staticmethod
    def key_id(blob: bytes) -> str:
        """The master key id a wrapped key or an envelope is under."""
        if blob[0] == _ENVELOPE:
            blob = blob[2 : 2 + blob[1]]
        return _split_wrapped(blob)[0]

    def rewrap(self, blob: bytes, ad: bytes) -> bytes:
        """A wrapped key or envelope re-wrapped under the current master key (rotation)."""
        if blob[0] == _ENVELOPE:
            size = blob[1]
            wrapped, sealed = blob[2 : 2 + size], blob[2 + size :]
            new = self.wrap(self.unwrap(wrapped, ad), ad)
            return bytes((_ENVELOPE, len(new))) + new + sealed
        return self.wrap(self.unwrap(blob, ad), ad)

    # -- values ----------------------------------------------------------------

    @staticmethod
    def seal_with(dek: bytes, plaintext: bytes, ad: bytes) -> bytes:
        """``plaintext`` encrypted under a data key kept elsewhere (a member's)."""
        nonce = os.urandom(_NONCE)
        return bytes((_SEALED,)) + nonce + AESGCM(dek).encrypt(nonce, plaintext, ad)

    @staticmethod
    def open_with(dek: bytes, sealed: bytes, ad: bytes) -> bytes:
        """The plaintext of :meth:`seal_with`; SealingError if it does not open."""
        if not sealed or sealed[0] != _SEALED:
            raise SealingError("not a sealed value")
        try:
            return AESGCM(dek).decrypt(sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], ad)
        except InvalidTag as error:
            raise SealingError("sealed value does not open") from error

    def seal(self, plaintext: bytes, ad: bytes) -> bytes:
        """A self-contained envelope: a fresh data key, wrapped, and the value under it."""
        dek, wrapped = self.new_data_key(ad)
        return bytes((_ENVELOPE, len(wrapped))) + wrapped + self.seal_with(dek, plaintext, ad)

    def open(self, envelope: bytes, ad: bytes) -> bytes:
        """The plaintext of :meth:`seal`."""
        if not envelope or envelope[0] != _ENVELOPE:
            raise SealingError("not a sealed envelope")
        size = envelope[1]
        dek = self.unwrap(envelope[2 : 2 + size], ad)
        return self.open_with(dek, envelope[2 + size :], ad)

    # -- key checks ------------------------------------------------------------

    def check_value(self, kid: str) -> bytes:
        """The key-check value stored for master key ``kid`` (or the lookup key)."""
        if kid == LOOKUP_CHECK_ID:
            return hmac.new(self.lookup_key, _CHECK_PLAINTEXT, hashlib.sha256).digest()
        nonce = os.urandom(_NONCE)
        return nonce + self.masters[kid].encrypt(nonce, _CHECK_PLAINTEXT, b"check|" + kid.encode())

    def matches(self, kid: str, check: bytes) -> bool:
        """Whether the configured key ``kid`` is the one ``check`` was made with."""
        if kid == LOOKUP_CHECK_ID:
            return hmac.compare_digest(self.check_value(kid), check)
        try:
            opened = self.masters[kid].decrypt(
                check[:_NONCE], check[_NONCE:], b"check|" + kid.encode()
            )
        except InvalidTag:
            return False
        return opened == _CHECK_PLAINTEXT


def _split_wrapped(wrapped: bytes) -> tuple[str, bytes]:
    if not wrapped or wrapped[0] != _WRAPPED:
        raise SealingError("not a wrapped data key")
    size = wrapped[1]
    return wrapped[2 : 2 + size].decode(), wrapped[2 + size :]


def ad(*parts: object) -> bytes:
    """Associated data naming a value's table, column and row."""
    return "|".join(str(part) for part in parts).encode()


async def verify_keys(conn: Any, schema: str, keys: Keyring) -> None:
    """Refuse keys the schema's data was not sealed with; record the current key.

    Every master key id with a check row must be configured and match; the
    lookup key must match its row. A key seen for the first time (a new
    deployment, the first start after a rotation began) gets its check row.
    ``conn`` is a SQLAlchemy async connection in a transaction.
    """
    await _check_stored(conn, schema, keys)
    await conn.execute(
        text(
            f"INSERT INTO {schema}.seal_keys (key_id, check_value) VALUES (:k, :v), (:c, :w) "
            # A retired key made current again (its value checked above) has data again.
            "ON CONFLICT (key_id) DO UPDATE SET retired = false "
            f"WHERE {schema}.seal_keys.key_id = :c AND {schema}.seal_keys.retired"
        ),
        {
            "k": LOOKUP_CHECK_ID,
            "v": keys.check_value(LOOKUP_CHECK_ID),
            "c": keys.current,
            "w": keys.check_value(keys.current),
        },
    )
    # Again: a process starting at the same moment with another key may have
    # recorded its check value first.
    await _check_stored(conn, schema, keys)


async def _check_stored(conn: Any, schema: str, keys: Keyring) -> None:
    rows = (
        await conn.execute(text(f"SELECT key_id, check_value, retired FROM {schema}.seal_keys"))
    ).all()
    stored = {str(r.key_id): bytes(r.check_value) for r in rows}
    retired = {str(r.key_id) for r in rows if r.retired}
    for kid, check in stored.items():
        if kid == LOOKUP_CHECK_ID:
            if not keys.matches(kid, check):
                raise SealingError(
                    f"{LOOKUP_KEY_SETTING} is not the key the {schema} schema was sealed "
                    "with: refusing to start (nothing was written)"
                )
            continue
        if kid not in keys.masters:
            if kid in retired:
                continue  # no data under it: it may be gone from the settings
            raise SealingError(
                f"{MASTER_KEYS_SETTING} lacks master key {kid!r}, which data in the "
                f"{schema} schema is sealed under: refusing to start"
            )
        if not keys.matches(kid, check):
            raise SealingError(
                f"{MASTER_KEYS_SETTING}: key {kid!r} is not the key of that id the {schema} "
                "schema was sealed with: refusing to start (nothing was written)"
            )


async def open_keyring(db: Any, schema: str, keys: Keyring) -> Keyring:
    """Verify ``keys`` against ``schema`` on the primary before anything is written."""
    async with db.write() as conn:
        await verify_keys(conn, schema, keys)
    return keys


def keyring_or_exit(settings: SealingSettings) -> Keyring:
    """The process's keys, or exit at once with a message naming the setting."""
    try:
        return settings.keyring()
    except SealingError as error:
        sys.exit(f"refusing to start: {error}")


@contextmanager
def refusing_to_start() -> Iterator[None]:
    """Turn a key refused by :func:`verify_keys` into an exit naming the setting."""
    try:
        yield
    except SealingError as error:
        sys.exit(f"refusing to start: {error}")


# -- migrations ------------------------------------------------------------------


def migration_keyring() -> Keyring:
    """The keys a sealing migration needs (same settings as the services)."""
    try:
        return SealingSettings().keyring()
    except SealingError as error:
        raise RuntimeError(f"this migration seals existing data: {error}") from None


def record_keys(bind: Any, keys: Keyring) -> None:
    """Store the key-check values of a schema just sealed (search_path is the schema)."""
    bind.execute(
        text(
            "INSERT INTO seal_keys (key_id, check_value) VALUES (:k, :v), (:c, :w) "
            "ON CONFLICT (key_id) DO NOTHING"
        ),
        {
            "k": LOOKUP_CHECK_ID,
            "v": keys.check_value(LOOKUP_CHECK_ID),
            "c": keys.current,
            "w": keys.check_value(keys.current),
        },
    )


def refuse_downgrade(schema: str, revision: str) -> None:
    """Downgrading would put Telegram ids back in clear: refused, never done silently."""
    raise RuntimeError(
        f"{schema} {revision} sealed members' Telegram ids and chat ids; downgrading would "
        "store them in clear again, so it is refused. To go back, restore a backup taken "
        "before the upgrade (it holds the data unsealed, as it was)."
    )
