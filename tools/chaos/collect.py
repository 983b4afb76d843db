"""Gathering the ledger's records at the end of a chaos run.

Confessions from the primary, the outbox rows not sent yet (the reason an
effect is still on its way), and what the bot visibly put in the channel and
the admin chat of each community (the emulator's control API).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tools.bench.world import BenchCommunity
from tools.chaos.ledger import Confession, Ledger, Offered
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core.outbox import card_key, parse_publication_key

_CONFESSIONS = (
    "SELECT coalesce(json_agg(json_build_object('id', id, 'community', community_id,"
    " 'number', number, 'status', status, 'text', text, 'post', channel_message_id)), '[]')"
    " FROM confessions.confessions"
)
_UNSENT = (
    "SELECT coalesce(json_agg(json_build_object('key', idempotency_key, 'status', status,"
    " 'reason', coalesce(reason, last_error, ''))), '[]')"
    " FROM notifier.outbox WHERE status <> 'sent'"
)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def bot_texts(emulator: str, bot: int, chat: int) -> list[str]:
    """Texts (captions for media) of the bot's messages in one chat."""
    answer = _get(f"{emulator}/control/bots/{bot}/chats/{chat}/messages")
    return [
        str(m.get("text") or m.get("caption") or "") for m in answer["messages"] if m["from_bot"]
    ]


def pending_updates(emulator: str, bots: list[int]) -> int:
    """Updates the emulator is still retrying, over all bots."""
    return sum(
        int(_get(f"{emulator}/control/bots/{bot}/webhook").get("pending_update_count", 0))
        for bot in bots
    )


def offered_from_k6(metrics: dict[str, Any], windows: list[str], pending: int) -> list[Offered]:
    """One record per update k6 offered (its summary counts them per fault window)."""
    result: list[Offered] = []
    for name in windows:
        total = _count(metrics, f"updates{{window:{name}}}")
        failed = _count(metrics, f"failures{{window:{name}}}")
        result += [Offered(name, 200)] * (total - failed)
        still = min(pending, failed)
        pending -= still
        result += [Offered(name, None, pending=True)] * still
        result += [Offered(name, None)] * (failed - still)
    return result


def _count(metrics: dict[str, Any], key: str) -> int:
    entry = metrics.get(key)
    return int(entry["values"].get("count", 0)) if entry else 0


def build(
    cfg: InfraConfig,
    emulator: str,
    communities: list[BenchCommunity],
    channels: dict[int, int],
    offered: list[Offered],
) -> Ledger:
    """The ledger of a finished run (``channels``: community id → channel chat id)."""
    rows = json.loads(psql(cfg, _CONFESSIONS))
    number_of = {(r["community"], r["id"]): r["number"] for r in rows}
    by_id = {r["id"]: (r["community"], r["number"]) for r in rows}
    ledger = Ledger(
        offered=offered,
        confessions=[
            Confession(r["community"], r["number"], r["status"], r["text"], r["post"]) for r in rows
        ],
    )
    for c in communities:
        ledger.posts[c.id] = bot_texts(emulator, c.bot_id, channels[c.id])
        ledger.cards[c.id] = bot_texts(emulator, c.bot_id, c.admin_chat)
    cards = {card_key(cid): place for cid, place in by_id.items()}
    for row in json.loads(psql(cfg, _UNSENT)):
        key, reason = row["key"], f"outbox {row['status']}: {row['reason']}"[:120]
        publication = parse_publication_key(key)
        if publication is not None and publication in number_of:
            ledger.on_the_way[(publication[0], number_of[publication])] = reason
        if key in cards:
            ledger.on_the_way[cards[key]] = reason
    return ledger
