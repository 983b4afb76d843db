"""Member commands and buttons outside the private chat: a pointer to it, nothing more.

Member flows show a member's own data and keep per-member state, so every
member router runs in the private chat only. In a group, or in the admin
chat, a member command gets a short link to the bot's private chat and a
member button opens it; nothing is read, stored or started. The admin chat's
own commands (/settings, /cancel, /help there) are the admin routers', which
come first.
"""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, ReplyParameters

from services.gateway.commands import MEMBER_COMMAND_NAMES
from services.gateway.filters import OutsidePrivateChat, Pressed, TextIs
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, reply
from services.gateway.routers.threads import ThreadLink
from services.gateway.routing import FeatureRouter
from services.gateway.views import texts
from veil.contracts.callbacks import (
    CommentAction,
    Compose,
    DraftAction,
    EraseChoice,
    NotificationsChoice,
    ThreadView,
)

router = FeatureRouter(name="elsewhere")
router.message.filter(OutsidePrivateChat())
router.callback_query.filter(OutsidePrivateChat())


async def _point(message: Message, community: CommunityEntry, payload: str = "") -> None:
    """Answer under the command (or plainly, if it was deleted meanwhile) with the link."""
    await reply(
        message,
        texts.private_only(community.bot_username, payload),
        reply_parameters=ReplyParameters(
            message_id=message.message_id, allow_sending_without_reply=True
        ),
    )


@router.message(ThreadLink())
async def thread_link(message: Message, number: int, community: CommunityEntry) -> None:
    """``/start c_N`` in a group: the link opens that thread in private."""
    await _point(message, community, f"c_{number}")


@router.message(Command(*MEMBER_COMMAND_NAMES))
@router.message(TextIs(texts.NEW_CONFESSION, texts.MY_CONFESSIONS, texts.HELP))
async def member_command(message: Message, community: CommunityEntry) -> None:
    """A member command in a group: where to send it instead."""
    await _point(message, community)


@router.callback_query(Pressed(ThreadView))
@router.callback_query(Pressed(CommentAction))
@router.callback_query(Pressed(Compose))
async def thread_button(
    query: CallbackQuery,
    callback_data: ThreadView | CommentAction | Compose,
    community: CommunityEntry,
) -> None:
    """A thread button under a message in a group: open the thread in private instead.

    The page is never re-rendered here: it would show the presser's own
    comments (with 🗑) to the whole group.
    """
    await answer_query(
        query, url=texts.private_link(community.bot_username, f"c_{callback_data.number}")
    )


@router.callback_query(Pressed(DraftAction))
@router.callback_query(Pressed(EraseChoice))
@router.callback_query(Pressed(NotificationsChoice))
async def member_button(query: CallbackQuery, community: CommunityEntry) -> None:
    """Any other member button outside the private chat: open the private chat."""
    await answer_query(query, url=texts.private_link(community.bot_username))
