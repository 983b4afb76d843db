"""Gathering the ledger's records at the end of a chaos run.

Confessions from the primary, the outbox rows not sent yet (the reason an
effect is still on its way), the member notices queued, what the bot visibly
put in the channel, the admin chat and the private chats holding a notice, and
every update's delivery record (the emulator's control API).

The notifier stores no chat id and keeps a message's text only sealed until it
is sent (services/notifier/recipients.py). The ledger finds a notice's chat by
its keyed hash among the run's members' private chats (with the stack's keys),
opens a pending notice's text, and takes a sent one's from the message Telegram
holds under the id the notifier recorded (none there: the notice is lost).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from services.notifier.recipients import chat_key, open_call
from tools.bench.world import BenchCommunity
from tools.chaos.ledger import Confession, Ledger, Notice, Offered
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core.outbox import card_key, parse_publication_key
from veil.core.sealing import Keyring, SealingError

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
# New messages (not edits); the member notices among them are told by their
# chat's keyed hash (see the module's docstring).
_NOTICES = (
    "SELECT coalesce(json_agg(json_build_object('community', community_id,"
    " 'chat_key', encode(chat_key, 'hex'), 'key', idempotency_key,"
    " 'sealed', encode(sealed, 'hex'), 'message_id', sent_message_id,"
    " 'status', status, 'reason', coalesce(reason, last_error, ''))), '[]')"
    " FROM notifier.outbox WHERE method LIKE 'send%' AND edit_of IS NULL"
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


def bot_messages(emulator: str, bot: int, chat: int) -> list[str]:
    """The bot's messages in one chat as it sent them (HTML, else the text or caption)."""
    return list(bot_messages_by_id(emulator, bot, chat).values())


def bot_messages_by_id(emulator: str, bot: int, chat: int) -> dict[int, str]:
    """The bot's messages in one chat by message id, as it sent them."""
    answer = _get(f"{emulator}/control/bots/{bot}/chats/{chat}/messages")
    return {
        int(m["message_id"]): str(m.get("html") or m.get("text") or m.get("caption") or "")
        for m in answer["messages"]
        if m["from_bot"]
    }


def _notice_text(keys: Keyring, row: dict[str, Any], shown: dict[int, str]) -> str:
    """A notice's text: sealed while pending, else the message sent under its id."""
    if row["sealed"]:
        try:
            _, params = open_call(keys, row["key"], bytes.fromhex(row["sealed"]))
        except SealingError:
            return ""
        return str(params.get("text") or params.get("caption") or "")
    return shown.get(int(row["message_id"] or 0), "")


def offered_from_emulator(emulator: str, bots: list[int]) -> list[Offered]:
    """One record per update id the emulator was given, with how its delivery stands."""
    result = []
    for bot in bots:
        for d in _get(f"{emulator}/control/bots/{bot}/deliveries")["deliveries"]:
            status = d["status"] if d["state"] == "delivered" else d["status"] or None
            why = "" if d["state"] == "delivered" else f"attempt {d['attempts']}: {d['error']}"
            result.append(
                Offered(
                    "update",
                    status if d["state"] != "pending" else None,
                    pending=d["state"] == "pending",
                    update_id=int(d["update_id"]),
                    reason=why[:120],
                )
            )
    return result


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
    keys: Keyring,
    members: list[tuple[int, int]],
) -> Ledger:
    """The ledger of a finished run (``channels``: community id → channel chat id;
    ``members``: the roster's (user id, community index); ``keys``: the stack's)."""
    rows = json.loads(psql(cfg, _CONFESSIONS))
    number_of = {(r["community"], r["id"]): r["number"] for r in rows}
    by_id = {r["id"]: (r["community"], r["number"]) for r in rows}
    ledger = Ledger(
        offered=offered,
        confessions=[
            Confession(r["community"], r["number"], r["status"], r["text"], r["post"]) for r in rows
        ],
    )
    # The workers are still sending: the unsent rows are read before the chats,
    # so that a card or post sent in between is seen in its chat. Read the other
    # way round, it is in neither and counted lost (three cards in the first
    # full run, sent while the ledger was being read).
    unsent = json.loads(psql(cfg, _UNSENT))
    for c in communities:
        ledger.posts[c.id] = bot_texts(emulator, c.bot_id, channels[c.id])
        ledger.cards[c.id] = bot_texts(emulator, c.bot_id, c.admin_chat)
    bots = {c.id: c.bot_id for c in communities}
    # A member's private chat id is their user id: its keyed hash names it.
    private_chats = {
        (communities[index].id, chat_key(keys, communities[index].id, user).hex()): user
        for user, index in members
    }
    shown: dict[tuple[int, int], dict[int, str]] = {}
    for row in json.loads(psql(cfg, _NOTICES)):
        chat = private_chats.get((row["community"], row["chat_key"]))
        if row["community"] not in bots or chat is None:
            continue
        place = (row["community"], chat)
        if place not in shown:
            shown[place] = bot_messages_by_id(emulator, bots[place[0]], chat)
            ledger.private[place] = list(shown[place].values())
        text = _notice_text(keys, row, shown[place])
        ledger.notices.append(
            Notice(row["community"], chat, row["key"], text, row["status"], row["reason"])
        )
    cards = {card_key(cid): place for cid, place in by_id.items()}
    for row in unsent:
        # A queued row without an error has not had its turn yet: its chat's
        # earlier messages go first, at Telegram's pace (20 a minute in a group).
        why = row["reason"] or "waiting for its chat's turn"
        key, reason = row["key"], f"outbox {row['status']}: {why}"[:120]
        publication = parse_publication_key(key)
        if publication is not None and publication in number_of:
            ledger.on_the_way[(publication[0], number_of[publication])] = reason
        if key in cards:
            ledger.on_the_way[cards[key]] = reason
    return ledger
