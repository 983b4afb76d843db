"""/my: the member's own confessions and their status."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import PrivateChat, TextIs
from services.gateway.registry import CommunityEntry
from services.gateway.replies import reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import texts

router = FeatureRouter(name="my")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())


@router.message(Command("my"))
@router.message(TextIs(texts.MY_CONFESSIONS))
async def my_confessions(
    message: Message, community: CommunityEntry, services: ServiceClients
) -> None:
    """List the member's latest confessions."""
    assert message.from_user is not None
    response = await services.my_confessions(community, message.from_user.id, limit=10)
    if not response.confessions:
        await reply(message, texts.NO_CONFESSIONS)
        return
    await reply(
        message,
        texts.my_confessions(
            [(c.number, c.status, c.text) for c in response.confessions], response.total
        ),
    )
