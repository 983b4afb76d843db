"""Reporting a comment (issue 16): the reason picker, and the reporter's standing
the social service weighs the report by.

The ⚠️ under a comment is ``CommentAction(a="rp", v=0)``: it turns the thread
message's buttons into the reasons; each reason is the same action with ``v``
its code, which files the report. Admins see reasons and the weighted total,
never who reported.
"""

from __future__ import annotations

import time

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.gateway.threads import CommentAction, ThreadView
from veil.v1 import common_pb2, confessions_pb2

# v → (reason code the social service stores, button label)
REASONS = {
    1: ("spam", "🚫 Spam"),
    2: ("harassment", "😠 Harassment"),
    3: ("personal", "🪪 Personal information"),
    4: ("other", "❓ Other"),
}
ASK_REASON = "Why are you reporting this comment?"


def reasons_keyboard(comment_id: int, number: int, p: int, s: int) -> InlineKeyboardMarkup:
    """One button per reason, and ⬅️ Back to the page."""
    rows = [
        [
            InlineKeyboardButton(
                text=label,
                callback_data=CommentAction(a="rp", c=comment_id, n=number, p=p, s=s, v=v).pack(),
            )
        ]
        for v, (_, label) in REASONS.items()
    ]
    rows.append(
        [InlineKeyboardButton(text="⬅️ Back", callback_data=ThreadView(n=number, p=p, s=s).pack())]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def reporter_standing(member: confessions_pb2.Member) -> common_pb2.ReporterStanding:
    """The part of a report's weight the confessions service knows: days since
    joining and approved confessions (RegisterMember's member)."""
    joined = member.joined_at.seconds if member.HasField("joined_at") else int(time.time())
    return common_pb2.ReporterStanding(
        days_member=max(0, int(time.time() - joined) // 86400),
        confessions_approved=int(member.confessions_approved),
    )
