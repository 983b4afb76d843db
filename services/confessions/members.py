"""Pure rules of the member side: impact points, what a notice must name."""

from __future__ import annotations

from veil.core.errors import InvalidInputError
from veil.v1 import confessions_pb2 as pb

# Impact points: an approved confession is what a community is for; a comment
# keeps a thread alive; a reaction is someone else saying the comment mattered.
POINTS_PER_APPROVED = 10
POINTS_PER_COMMENT = 2
POINTS_PER_REACTION = 1


def impact_points(approved: int, comments: int, reactions: int) -> int:
    """10 per approved confession + 2 per comment written + 1 per reaction received."""
    return (
        POINTS_PER_APPROVED * approved
        + POINTS_PER_COMMENT * comments
        + POINTS_PER_REACTION * max(reactions, 0)
    )


def check_notice(notice: pb.MemberNotice) -> None:
    """A notice names its community, member, method and idempotency key."""
    if not (notice.community_id and notice.member_id and notice.method):
        raise InvalidInputError("a notice needs community_id, member_id and method")
    if not 1 <= len(notice.idempotency_key) <= 200:
        raise InvalidInputError("a notice needs an idempotency_key of 1..200 characters")
