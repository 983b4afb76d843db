"""Domain errors shared by services and mapped to gRPC status codes in one place."""

from __future__ import annotations


class VeilError(Exception):
    """Base of errors a caller can act on."""


class InvalidInputError(VeilError):
    """The request breaks a documented limit (empty text, too long, …)."""


class CommunityNotFoundError(VeilError):
    """No community with that id."""

    def __init__(self, community_id: int) -> None:
        super().__init__(f"community {community_id} does not exist")
        self.community_id = community_id


class NotFoundError(VeilError):
    """The thing acted on does not exist (or is no longer visible)."""


class RefusedError(VeilError):
    """The request is valid but a rule forbids it now (banned, cooldown, daily cap).

    The message is written for the member and shown to them as it is.
    """


class MemberRefusal(VeilError):
    """A member's request refused with a message written for that member.

    The only error whose text the gateway shows a member: any other error's
    text (internal validation, a failed lookup) becomes a generic apology, so a
    check written for developers can never reach a member. ``fixable``: the
    member can change the request and send it again (too long, a filtered
    word), rather than wait (banned, cooling down, over the daily cap).
    """

    def __init__(self, text: str, *, fixable: bool = False) -> None:
        super().__init__(text)
        self.fixable = fixable
