"""What handlers receive besides the event: the community and the service stubs."""

from __future__ import annotations

from aiogram.types import User

from services.gateway.registry import CommunityEntry
from veil.v1 import common_pb2


def actor(community: CommunityEntry, user: User) -> common_pb2.Actor:
    """The gRPC actor for ``user`` in ``community``."""
    return common_pb2.Actor(community_id=community.id, telegram_user_id=user.id)
