"""/me: the member's own profile, from counters kept as events happen."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import PrivateChat
from services.gateway.registry import CommunityEntry
from services.gateway.replies import reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import texts

router = FeatureRouter(name="profile")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


@router.message(Command("me"))
async def me(message: Message, community: CommunityEntry, services: ServiceClients) -> None:
    """Show confessions sent and approved, comments, reactions received, impact points."""
    assert message.from_user is not None
    profile = await services.profile(community, message.from_user.id)
    joined = (
        profile.joined_at.ToDatetime().strftime("%d %b %Y")
        if profile.HasField("joined_at")
        else None
    )
    await reply(
        message,
        texts.profile(
            profile.confessions_sent,
            profile.confessions_approved,
            profile.comments_written,
            profile.reactions_received,
            profile.impact_points,
            joined,
        ),
    )
