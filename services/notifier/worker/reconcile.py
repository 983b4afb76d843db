"""A card or channel post whose earlier attempt may have reached Telegram unrecorded.

The Bot API has no idempotency key: a worker killed between Telegram accepting
a ``sendMessage`` and the sent-marker's commit, or a call that got no answer
(timeout, connection cut), leaves a message whose copy may or may not exist.
Sending it again blindly makes two cards (two admins may act on either) or
two channel posts. So, for these two kinds:

1. Before the call, the row keeps the chat's highest known message id
   (:meth:`NotifierRepository.mark_unsure`): a copy, if it arrived, is above it
   (message ids grow per chat). A recorded answer clears it.
2. When a row still carrying that mark is sent again, the ids above the mark
   are probed first with ``editMessageReplyMarkup`` carrying the message's own
   buttons (their callback data or URL names the confession, so no other
   message has them): "message is not modified" is the copy (recorded as sent,
   with its id, not sent again); "message can't be edited" is someone else's
   message (skipped); a few "message to edit not found" in a row is the end of
   the chat (nothing arrived: sent again). Any other answer (429, 5xx, no
   answer) leaves the outcome unknown: the message waits and is probed again.

What this cannot close (documented in the README): a chat with no recorded
message yet (mark 0: nothing to look above, the card is sent again); a copy
deleted by an admin before the probe (sent again); a copy an admin already
decided on (the probe gives it its buttons back; sent again); a bot message sent outside
the notifier into the same chat after the lost attempt, which the probe would
give the card's buttons (the gateway's own replies in the admin chat; a
warning is logged); more than :data:`PROBES` messages after the mark.
"""

from __future__ import annotations

import logging

from services.notifier.repository.rows import ClaimedMessage
from services.notifier.worker.telegram import Answer, BotApi, Outcome
from veil.core.outbox import parse_card_key, parse_publication_key

log = logging.getLogger(__name__)

#: Ids probed above the mark at most (the chat's messages since the lost attempt).
PROBES = 30
#: "message to edit not found" this many times in a row: past the chat's last message.
END_OF_CHAT = 3


def reconcilable(message: ClaimedMessage) -> bool:
    """A new card or channel post whose buttons identify it (a duplicate of it is harmful)."""
    return (
        message.method.startswith("send")
        and bool(message.params.get("reply_markup"))
        and (
            parse_card_key(message.idempotency_key) is not None
            or parse_publication_key(message.idempotency_key) is not None
        )
    )


async def find_copy(api: BotApi, token: str, message: ClaimedMessage) -> Answer | None:
    """Look for an unrecorded copy above the row's mark.

    Returns SENT with the copy's id (found), None (not there: send it), or
    the inconclusive answer (429, 5xx, network) to retry on.
    """
    mark = message.unsure_after
    if not mark:
        # No recorded message in the chat: nothing bounds the search.
        log.warning("unsure send with no mark: sent again", extra={"outbox_id": message.id})
        return None
    misses = 0
    for candidate in range(mark + 1, mark + 1 + PROBES):
        answer = await api.call(
            token,
            "editMessageReplyMarkup",
            {
                "chat_id": message.chat_id,
                "message_id": candidate,
                "reply_markup": message.params["reply_markup"],
            },
        )
        if answer.outcome is Outcome.SENT and answer.error_code:
            # "message is not modified": this very message, buttons and all.
            log.info("unrecorded copy found", extra={"outbox_id": message.id})
            return Answer(Outcome.SENT, message_id=candidate)
        if answer.outcome is Outcome.SENT:
            log.warning(
                "probe edited a bot message that is not the copy",
                extra={"outbox_id": message.id, "community": message.community_id},
            )
        elif answer.outcome is Outcome.REJECTED and "not found" in answer.description:
            misses += 1
            if misses >= END_OF_CHAT:
                return None
            continue
        elif answer.outcome is not Outcome.REJECTED:
            return answer  # 429, 5xx, no answer, blocked: ask again later
        misses = 0
    log.warning("no copy within the probes: sent again", extra={"outbox_id": message.id})
    return None
