"""The chaos run's ledger: every update offered, and every effect, accounted for.

Inputs are plain records gathered at the end of a run (tools/chaos/collect.py):
what the load offered and how each delivery ended, the confessions in the
database, and what the bot visibly put in Telegram (channel posts, admin-chat
cards). The accounting is pure so the suite checks it on synthetic data.

* Every update id the emulator was given is accounted for (its per-update
  delivery record): **completed** when its webhook delivery ended 2xx,
  **pending** when the emulator is still retrying it (Telegram's schedule
  lasts an hour; the reason is the last error), otherwise **lost**.
* A confession is **lost** when it is published without a post, or awaits a
  decision without a card, and no reason says it is still on its way (an
  outbox row queued or retrying). **Duplicated effects**: two confessions from
  one Send (the same unique text), two cards or two posts of one number, a
  notice (an outbox row to a member's private chat) shown more often than it
  was queued. A notice dead-lettered is lost; one still queued is pending.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_CARD = re.compile(r"^🆕 #(\d+)")
_POST = re.compile(r"^#(\d+)(?:\s|$)")


@dataclass(frozen=True)
class Offered:
    """One update the load offered and how its delivery ended (None: no answer yet)."""

    kind: str
    status: int | None
    pending: bool = False
    update_id: int = 0
    reason: str = ""

    @property
    def name(self) -> str:
        """How the ledger names it."""
        why = f" ({self.reason})" if self.reason else ""
        return f"update {self.update_id or self.kind}{why}"


@dataclass(frozen=True)
class Notice:
    """A member notice in the outbox: its key, chat, text as sent, status and why."""

    community: int
    chat: int
    key: str
    text: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Confession:
    """A confession row: (community, number), its status and its member-written text."""

    community: int
    number: int
    status: str
    text: str
    channel_message_id: int | None = None


@dataclass
class Ledger:
    """What a run offered and what exists at the end."""

    offered: list[Offered]
    confessions: list[Confession]
    # Bot messages' texts (captions for media) per community.
    posts: dict[int, list[str]] = field(default_factory=dict)
    cards: dict[int, list[str]] = field(default_factory=dict)
    # Why effects not yet visible are still coming: (community, number) → reason.
    on_the_way: dict[tuple[int, int], str] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    # The bot's messages (as sent: HTML) per (community, private chat) holding a notice.
    private: dict[tuple[int, int], list[str]] = field(default_factory=dict)

    def account(self) -> Accounts:
        """Count completed, pending, lost and duplicated effects."""
        result = Accounts(offered=len(self.offered))
        for update in self.offered:
            if update.status is not None and 200 <= update.status < 300:
                result.completed += 1
            elif update.pending:
                result.pending.append(f"{update.name}: still being retried")
            else:
                result.lost.append(f"{update.name}: delivery ended {update.status}")
        posts = _numbers(self.posts, _POST)
        cards = _numbers(self.cards, _CARD)
        for name, seen in (("post", posts), ("card", cards)):
            for (community, number), count in sorted(seen.items()):
                if count > 1:
                    result.duplicated.append(f"{count} {name}s of #{number} in {community}")
        texts = Counter((c.community, c.text) for c in self.confessions if c.text)
        for (community, _text), count in texts.items():
            if count > 1:
                result.duplicated.append(f"{count} confessions from one Send in {community}")
        self._notices(result)
        for c in self.confessions:
            key = (c.community, c.number)
            missing = None
            if c.status == "published" and posts[key] == 0:
                missing = "published without a post"
            elif c.status == "pending" and cards[key] == 0:
                missing = "awaiting a decision without a card"
            elif c.status == "approved" and posts[key] == 0:
                missing = "approved, not yet published"
            elif c.status == "approved":
                # Posted, but RecordPublication never stored the post's id.
                result.unrecorded.append(f"#{c.number} in {c.community}")
            if missing is None:
                continue
            reason = self.on_the_way.get(key)
            if reason is not None:
                result.pending.append(f"#{c.number} in {c.community}: {missing} ({reason})")
            else:
                result.lost.append(f"#{c.number} in {c.community}: {missing}")
        return result

    def _notices(self, result: Accounts) -> None:
        queued: Counter[tuple[int, int, str]] = Counter()
        keys: dict[tuple[int, int, str], str] = {}
        for n in self.notices:
            if n.status == "sent":
                queued[(n.community, n.chat, n.text)] += 1
                keys[(n.community, n.chat, n.text)] = n.key
            elif n.status == "dead":
                result.lost.append(f"notice {n.key}: dead ({n.reason})")
            elif n.status in ("queued", "sending"):
                result.pending.append(f"notice {n.key}: {n.status} ({n.reason})")
        shown: Counter[tuple[int, int, str]] = Counter(
            (community, chat, text)
            for (community, chat), texts in self.private.items()
            for text in texts
        )
        for place, count in queued.items():
            if shown[place] > count:
                result.duplicated.append(f"{shown[place]} notices {keys[place]}")
            elif shown[place] < count:
                result.lost.append(f"notice {keys[place]}: accepted, not in the chat")


@dataclass
class Accounts:
    """The ledger's verdict."""

    offered: int
    completed: int = 0
    pending: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """0 lost, 0 duplicated effects (pending ones have a reason)."""
        return not self.lost and not self.duplicated

    def lines(self) -> list[str]:
        """The printed ledger."""
        out = [
            f"offered {self.offered}  completed {self.completed}  pending {len(self.pending)}"
            f"  lost {len(self.lost)}  duplicated effects {len(self.duplicated)}"
            f"  posted but unrecorded {len(self.unrecorded)}"
        ]
        out += [f"  lost: {line}" for line in self.lost[:20]]
        out += [f"  duplicated: {line}" for line in self.duplicated[:20]]
        out += [f"  pending: {line}" for line in self.pending[:20]]
        out += [f"  unrecorded post id: {line}" for line in self.unrecorded[:20]]
        return out


def _numbers(texts: dict[int, list[str]], pattern: re.Pattern[str]) -> Counter[tuple[int, int]]:
    found: Counter[tuple[int, int]] = Counter()
    for community, messages in texts.items():
        for text in messages:
            match = pattern.match(text)
            if match is not None:
                found[(community, int(match.group(1)))] += 1
    return found
