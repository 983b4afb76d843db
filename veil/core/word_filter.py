"""A community's word filter: whole words, case-insensitive. One home for the
confessions service (confessions) and the social service (comments)."""

from __future__ import annotations

import re
from collections.abc import Iterable


def filtered_word(text: str, words: Iterable[str]) -> str | None:
    """The first filter word in ``text`` (whole words, case-insensitive), if any."""
    lowered = text.casefold()
    for word in words:
        if re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", lowered):
            return word
    return None
