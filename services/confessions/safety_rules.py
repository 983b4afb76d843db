"""The trust-and-safety rules of a community (issue 16), kept apart from the
confessions' own rules (``domain.apply_rule`` hands these names over):

* ``pii flag|redact|reject``: personal information in confessions and comments
  (``veil.core.pii``); default flag.
* ``commentfilter on|off``: the word filter (its words and action) applies to
  comments too; default on.
* ``reports <n>|default``: the weighted reports that hide a comment (a full
  report weighs 1; see the README's formula), 0.2 to 50; default: the
  deployment's ``VEIL_REPORT_THRESHOLD``.
* ``previews on|off``: link previews under channel posts; default off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from veil.core import pii
from veil.core.errors import InvalidInputError
from veil.v1 import common_pb2

NAMES = ("pii", "commentfilter", "reports", "previews")
_NUMBER = re.compile(r"\d{1,2}(\.\d{1,2})?")
_ON = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}


@dataclass(frozen=True)
class SafetyRules:
    """The rules above as stored (``community_rules``, migration 0006)."""

    pii_action: str = pii.DEFAULT_ACTION
    filter_comments: bool = True
    # Hundredths of a full report; None: the deployment's default.
    report_threshold: int | None = None
    link_previews: bool = False

    @classmethod
    def of(cls, row: Any, prefix: str = "") -> SafetyRules:
        """From a result row (defaults where the community has no rules row)."""
        if row is None or row[f"{prefix}pii_action"] is None:
            return cls()
        return cls(
            pii_action=row[f"{prefix}pii_action"],
            filter_comments=bool(row[f"{prefix}filter_comments"]),
            report_threshold=row[f"{prefix}report_threshold"],
            link_previews=bool(row[f"{prefix}link_previews"]),
        )

    def proto_fields(self) -> dict[str, Any]:
        """These rules' fields of ``CommunityRules``."""
        return {
            "pii_action": self.pii_action,
            "filter_comments": self.filter_comments,
            "report_threshold_hundredths": self.report_threshold or 0,
            "link_previews": self.link_previews,
        }

    def comment_rules(
        self, filter_words: tuple[str, ...], filter_action: str, max_length: int
    ) -> common_pb2.CommentRules:
        """What the social service applies to a comment and a report."""
        return common_pb2.CommentRules(
            filter_comments=self.filter_comments,
            filter_words=list(filter_words),
            filter_action=filter_action,
            pii_action=self.pii_action,
            report_threshold_hundredths=self.report_threshold or 0,
            max_length=max_length,
        )


SAFETY_FIELDS = frozenset(SafetyRules.__dataclass_fields__)


def _switch(name: str, value: str) -> bool:
    if value.lower() not in _ON:
        raise InvalidInputError(f"{name} must be on or off")
    return _ON[value.lower()]


def apply(name: str, value: str) -> dict[str, Any]:
    """The column values that setting rule ``name`` (one of ``NAMES``) to ``value`` changes."""
    value = value.strip().lower()
    if name == "pii":
        if value not in pii.ACTIONS:
            raise InvalidInputError("pii must be flag, redact or reject")
        return {"pii_action": value}
    if name == "commentfilter":
        return {"filter_comments": _switch(name, value)}
    if name == "previews":
        return {"link_previews": _switch(name, value)}
    if value == "default":
        return {"report_threshold": None}
    hundredths = round(float(value) * 100) if _NUMBER.fullmatch(value) else 0
    if not 20 <= hundredths <= 5000:
        raise InvalidInputError("reports must be a number from 0.2 to 50 (or default)")
    return {"report_threshold": hundredths}


def threshold_text(hundredths: int) -> str:
    """A threshold as admins write it: 3, 0.6."""
    return f"{hundredths / 100:g}"
