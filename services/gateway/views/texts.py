"""What the bot says to members, and its menu. HTML parse mode: escape member text.

The admin chat's texts are in :mod:`services.gateway.views.admin_texts`, warns and
conversations in :mod:`services.gateway.views.safety_texts`.

Plain-text answers (callback alerts, ``answer_query``) are marked as such.
"""

from __future__ import annotations

from html import escape

from services.gateway.commands import ADMIN_COMMANDS, MEMBER_COMMANDS, command_lines
from veil.contracts.callbacks import ReportReason
from veil.contracts.lengths import COMMENT_MAX_LENGTH
from veil.contracts.texts import DELETED_TEXT, WITHDRAWN_NOTE
from veil.v1 import confessions_pb2

NEW_CONFESSION = "✍️ New confession"
MY_CONFESSIONS = "📜 My confessions"
HELP = "❓ Help"
WRITE_TO_ADMINS = "✉️ Write to the admins"

STATUS_LABELS = {
    confessions_pb2.CONFESSION_STATUS_PENDING: "⏳ waiting for review",
    confessions_pb2.CONFESSION_STATUS_APPROVED: "✅ approved",
    confessions_pb2.CONFESSION_STATUS_REJECTED: "❌ rejected",
    confessions_pb2.CONFESSION_STATUS_PUBLISHED: "📢 published",
    confessions_pb2.CONFESSION_STATUS_DELETED: "🗑 deleted",
}


def welcome(title: str, created: bool) -> str:
    """Greeting for /start."""
    first = "Welcome" if created else "Welcome back"
    return (
        f"👋 {first} to <b>{escape(title)}</b> confessions.\n\n"
        "Everything you send here is anonymous: admins and other members never see "
        "who you are.\n\nTap <b>✍️ New confession</b> to begin."
    )


HELP_TEXT = (
    "<b>How it works</b>\n"
    "1. Tap ✍️ New confession and write it.\n"
    "2. Check the preview, then Send.\n"
    "3. Admins review it; approved confessions appear in the channel.\n\n"
    f"{escape(command_lines(MEMBER_COMMANDS), quote=False)}\n\n"
    "Nobody — not the admins, not other members — learns who wrote what."
)
ADMIN_HELP_TEXT = (
    "<b>Admin commands</b>\n"
    f"{escape(command_lines(ADMIN_COMMANDS), quote=False)}\n\n"
    "Members are named by confession number or thread pseudonym, never by account. "
    "Members use the bot in its private chat."
)


def private_only(bot_username: str, payload: str = "") -> str:
    """The answer to a member command outside the private chat: a link to it, nothing else."""
    link = private_link(bot_username, payload)
    return (
        f'🔒 Veil answers members in private: <a href="{escape(link)}">'
        f"open @{escape(bot_username)}</a>."
    )


def private_link(bot_username: str, payload: str = "") -> str:
    """``t.me`` link to the bot's private chat, optionally with a /start payload."""
    return f"https://t.me/{bot_username}" + (f"?start={payload}" if payload else "")


ASK_TEXT = "Write your confession as one message. It stays anonymous."
EDIT_TEXT = "Send the new text of your confession."
ONLY_TEXT = "A confession is text, or a photo, voice note or video with a caption."
CANCELLED = "Cancelled. Nothing was sent."
DRAFT_GONE = "This draft is no longer active."
NOTHING_TO_CANCEL = "Nothing to cancel."
NO_CONFESSIONS = "You have not sent any confession yet. Tap ✍️ New confession to write one."
BANNED = "🚫 You are banned in this community and cannot send confessions."
UNKNOWN = "I didn't get that. Use the buttons below, or /help."
TRY_AGAIN = "⚠️ Veil is busy for a moment. Please try again in a few seconds."
FAILED = "⚠️ Something went wrong on our side. Please try again."


def too_long(length: int, limit: int) -> str:
    """The draft is over the limit."""
    return f"That is {length} characters; a confession may have at most {limit}. Please shorten it."


def preview(text: str) -> str:
    """The draft as it will look, with what happens next."""
    return f"<b>Preview</b>\n\n{escape(text)}\n\nSend it to the admins for review?"


def refused(reason: str) -> str:
    """A confession the community's rules refused (the service's reason, plain text)."""
    return f"{escape(reason)}\n\nNothing was sent."


def received(number: int) -> str:
    """Confirmation after a confession was stored."""
    return f"Received — confession <b>#{number}</b> is waiting for review."


def thread_unavailable(number: int) -> str:
    """A thread whose confession is unknown, pending, rejected or withdrawn."""
    return f"Confession #{number} is not available."


WITHDRAWN = WITHDRAWN_NOTE


def nobody_behind(number: int) -> str:
    """/ban or /unban #N after the confession's author erased their data."""
    return f"The author of #{number} has deleted their data: there is nobody to ban or unban."


def my_confessions(items: list[tuple[int, int, str]], total: int) -> str:
    """List of (number, status, text) with the total."""
    lines = [f"<b>Your confessions</b> ({total})", ""]
    for number, status, text in items:
        snippet = text if len(text) <= 60 else text[:57] + "…"
        label = STATUS_LABELS.get(confessions_pb2.ConfessionStatus.ValueType(status), "?")
        lines.append(f"<b>#{number}</b> · {label}\n{escape(snippet)}")
    return "\n".join(lines)


def slow_down(wait_ms: int) -> str:
    """Polite answer to a member over the rate limit."""
    seconds = max(1, (wait_ms + 999) // 1000)
    return f"🐢 You're going a bit fast. Please wait {seconds} s and try again."


def profile(
    sent: int, approved: int, comments: int, reactions: int, points: int, joined: str | None
) -> str:
    """/me: the member's own counters (only they see them)."""
    since = f"\nMember since {joined}" if joined else ""
    return (
        "👤 <b>Your profile</b>\n\n"
        f"✍️ Confessions sent: <b>{sent}</b>\n"
        f"✅ Approved: <b>{approved}</b>\n"
        f"💬 Comments written: <b>{comments}</b>\n"
        f"👍 Reactions received: <b>{reactions}</b>\n"
        f"⭐ Impact points: <b>{points}</b>{since}\n\n"
        "<i>Impact: 10 per approved confession, 2 per comment, 1 per reaction received.</i>"
    )


def settings(enabled: bool) -> str:
    """/settings: what the toggle controls and its current value."""
    state = "on 🔔" if enabled else "off 🔕"
    return (
        "⚙️ <b>Your settings</b>\n\n"
        "Notifications about new comments on your confessions and replies to your "
        f"comments: <b>{state}</b>\n\n"
        "You always hear about your own confessions' review."
    )


NOTIFICATIONS_ON = "🔔 Notifications are on."
NOTIFICATIONS_OFF = "🔕 Notifications are off."
ERASE_CONFIRM = (
    "⚠️ <b>Erase all your data?</b>\n\n"
    f"Your confessions are withdrawn (published ones become “{DELETED_TEXT}” in the channel), "
    f"your comments become “{DELETED_TEXT}”, your reactions and reports are removed, and this "
    "bot forgets who you are.\n\n<b>This cannot be undone.</b>"
)
ERASED = (
    "🗑 Done. Everything you sent here is erased and Veil no longer knows who you were. "
    "If you write again, you start as a new member."
)
ERASE_KEPT = "Nothing was erased."
ERASED_ALERT = "Erased."


# -- threads (private chat) -------------------------------------------------

BANNED_FROM_COMMENTING = "You are banned in this community and cannot comment."
BANNED_FROM_ACTING = "You are banned in this community and cannot react or report."
REPORTED = "Reported. Thank you."
REPORTED_ALREADY = "You reported this already."
COMMENT_DELETED = "Comment deleted."
ONLY_OWN_COMMENTS = "Only your own comments."
COMMENT_GONE = "That comment is gone."
COMMENT_BOX_GONE = "That comment was not sent: open the thread and press ➕ Comment again."
PARENT_GONE = "The comment you replied to is gone."
BANNED_FROM_REPORTING = "You are banned in this community and cannot report."
ASK_REPORT_REASON = "Why are you reporting this comment?"
# The reasons a reporter picks from, as their buttons show them.
REPORT_REASON_LABELS = {
    ReportReason.SPAM: "🚫 Spam",
    ReportReason.HARASSMENT: "😠 Harassment",
    ReportReason.PERSONAL: "🪪 Personal information",
    ReportReason.OTHER: "❓ Other",
}
REPORT_CONFESSION = "🚩 Report confession"
BACK = "⬅️ Back"


def ask_confession_report_reason(number: int) -> str:
    """🚩 under a thread: the question above the reasons."""
    return f"Why are you reporting confession #{number}?"


def confession_reported(number: int, counted: bool) -> str:
    """What the reasons' message says once a reason was picked."""
    return f"🚩 Confession #{number}: {REPORTED if counted else REPORTED_ALREADY}"


def comment_refused(refusal: str) -> str:
    """A community rule refused the comment (the member's refusal text is plain)."""
    return f"{escape(refusal)}\n/cancel to stop."


def write_comment(number: int, *, reply: bool) -> str:
    """The prompt after ➕ Comment or ↩️ Reply."""
    what = "reply" if reply else "comment"
    return (
        f"Write your {what} on #{number} (up to {COMMENT_MAX_LENGTH} characters). /cancel to stop."
    )


def comment_too_long(length: int) -> str:
    """A comment over the limit."""
    return (
        f"That is {length} characters; a comment holds up to {COMMENT_MAX_LENGTH}. "
        "Please shorten it."
    )
