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
