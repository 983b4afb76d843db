"""``veil keys rotate <service>``: re-wrap a schema's data keys under the current master key.

Only data keys are re-encrypted (a few dozen bytes per row); the values under
them stay as they are. Each row is updated on its own, conditionally on the
blob it read (a queued message sent meanwhile keeps its NULL), so rotation runs
while every process keeps serving. The procedure (README, "Rotating the master
key"): every process first gets the new key as a *second* entry (readable), then
as the first (current); then this command; then the old key is removed.

After a pass that leaves no row under an old key id, that id's key-check row is
removed: a process started later without the old key is not refused for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.confessions.sealed import member_key_ad, token_ad
from veil.core.sealing import LOOKUP_CHECK_ID, Keyring, SealingError, ad, verify_keys


@dataclass(frozen=True)
class Sealed:
    """One column of wrapped keys or envelopes, and how its rows are bound."""

    table: str
    key: str  # the row's id column
    column: str
    # Columns read to rebuild the associated data, and how.
    bound_by: tuple[str, ...]
    associated: Callable[[Any], bytes]
    # 1: a wrapped key (kid at byte 2); 3: an envelope (its wrapped key at byte 2).
    envelope: bool


def _notifier_ad(row: Any) -> bytes:
    return ad("notifier.outbox.sealed", row.idempotency_key)


COLUMNS: dict[str, tuple[Sealed, ...]] = {
    "confessions": (
        Sealed(
            "members",
            "id",
            "data_key",
            ("community_id", "lookup"),
            lambda r: member_key_ad(int(r.community_id), bytes(r.lookup)),
            envelope=False,
        ),
        Sealed(
            "communities",
            "id",
            "sealed_token",
            ("bot_id",),
            lambda r: token_ad(int(r.bot_id)),
            envelope=True,
        ),
    ),
    "notifier": (
        Sealed("outbox", "id", "sealed", ("idempotency_key",), _notifier_ad, envelope=True),
    ),
}

_BATCH = 500


def _kid_sql(column: str, envelope: bool) -> str:
    # The master key id inside a blob (see the formats in veil/core/sealing.py).
    if envelope:
        return f"substring({column} from 5 for get_byte({column}, 3))"
    return f"substring({column} from 3 for get_byte({column}, 1))"


async def rotate(dsn: str, schema: str, keys: Keyring, report: Callable[[str], None]) -> int:
    """Re-wrap every data key of ``schema`` not under the current key; returns how many."""
    engine = create_async_engine(dsn, hide_parameters=True)
    current = keys.current.encode()
    done = 0
    try:
        async with engine.begin() as conn:
            await verify_keys(conn, schema, keys)
        for sealed in COLUMNS[schema]:
            where = (
                f"{sealed.column} IS NOT NULL AND "
                f"{_kid_sql(sealed.column, sealed.envelope)} <> :current"
            )
            columns = ", ".join((sealed.key, sealed.column, *sealed.bound_by))
            last: Any = None
            while True:
                after = "" if last is None else f" AND {sealed.key} > :last"
                async with engine.begin() as conn:
                    rows = (
                        await conn.execute(
                            text(
                                f"SELECT {columns} FROM {schema}.{sealed.table} "
                                f"WHERE {where}{after} ORDER BY {sealed.key} LIMIT {_BATCH}"
                            ),
                            {"current": current, "last": last},
                        )
                    ).all()
                    if not rows:
                        break
                    last = getattr(rows[-1], sealed.key)
                    for row in rows:
                        old = bytes(getattr(row, sealed.column))
                        new = keys.rewrap(old, sealed.associated(row))
                        result = await conn.execute(
                            text(
                                f"UPDATE {schema}.{sealed.table} SET {sealed.column} = :new "
                                f"WHERE {sealed.key} = :id AND {sealed.column} = :old"
                            ),
                            {"new": new, "old": old, "id": getattr(row, sealed.key)},
                        )
                        done += int(result.rowcount or 0)
            report(f"{schema}.{sealed.table}.{sealed.column}: re-wrapped under {keys.current!r}")
        await _retire(engine, schema, keys, report)
    finally:
        await engine.dispose()
    return done


async def _retire(engine: Any, schema: str, keys: Keyring, report: Callable[[str], None]) -> None:
    """Retire the key ids no row is under any more (see veil/core/sealing.py).

    Their check rows stay: a process still configured with such an id must have
    the same key (a wrong one is refused as before), and one without it starts.
    A retired id that has data again (written by a process whose current key it
    still was) is made required again.
    """
    async with engine.begin() as conn:
        stored = [
            str(r.key_id)
            for r in await conn.execute(text(f"SELECT key_id FROM {schema}.seal_keys"))
        ]
        for kid in stored:
            if kid in (LOOKUP_CHECK_ID, keys.current):
                continue
            left = 0
            for sealed in COLUMNS[schema]:
                left += int(
                    (
                        await conn.execute(
                            text(
                                f"SELECT count(*) FROM {schema}.{sealed.table} "
                                f"WHERE {sealed.column} IS NOT NULL AND "
                                f"{_kid_sql(sealed.column, sealed.envelope)} = :kid"
                            ),
                            {"kid": kid.encode()},
                        )
                    ).scalar_one()
                )
            await conn.execute(
                text(f"UPDATE {schema}.seal_keys SET retired = :retired WHERE key_id = :kid"),
                {"kid": kid, "retired": not left},
            )
            if left:
                report(
                    f"{schema}: {left} rows still under {kid!r} (written by a process whose "
                    "current key it still is): roll every process, then run this again"
                )
            else:
                report(f"{schema}: no data under {kid!r} any more; it may be removed")


def run(dsn: str, schema: str, keys: Keyring) -> int:
    """Synchronous entry point of the CLI; SealingError when the keys are refused."""
    if schema not in COLUMNS:
        raise SealingError(f"the {schema} schema holds nothing sealed")
    return asyncio.run(rotate(dsn, schema, keys, print))
