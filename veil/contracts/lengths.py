"""How long and how many: Telegram's limits and Veil's own lengths, in one place.

Telegram counts lengths in UTF-16 code units of the text a member sees (see
:mod:`veil.core.telegram_text`, which fits text into these limits). Veil's
own lengths sit below Telegram's, with room for the frame around member text
(the card's header, the post's number, the decision line).
"""

from __future__ import annotations

# Telegram's limits (Bot API).
MESSAGE_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
CALLBACK_DATA_LIMIT = 64

# A confession's text; a community's ``maxlen`` rule can only lower it.
CONFESSION_MAX_LENGTH = 4000
# A media confession's caption: the card and the post frame it within CAPTION_LIMIT.
CAPTION_MAX_LENGTH = 900
# A comment's text (the social service's default; its setting may lower it).
COMMENT_MAX_LENGTH = 1000
# A reject reason, typed or chosen from the community's list.
REJECT_REASON_MAX_LENGTH = 100
# The start of a comment quoted above a reply, and in notices.
QUOTE_LENGTH = 80
# Comments shown per thread page.
COMMENTS_PAGE_SIZE = 5
