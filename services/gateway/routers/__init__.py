"""aiogram routers, one module per feature."""

from __future__ import annotations

from aiogram import Router

from services.gateway.routers import (
    admin,
    comment_actions,
    confess,
    confession_reports,
    conversations,
    deleteme,
    elsewhere,
    errors,
    fallback,
    hidden_comments,
    moderation,
    my,
    panel,
    profile,
    settings,
    start,
    threads,
    warns,
)


def build_root_router() -> Router:
    """All feature routers in priority order, the fallback last.

    The error handlers sit on the root: aiogram passes an error up from the
    router that raised it to its parents, never to siblings.
    """
    root = errors.router
    # threads first: its /start c_<N> deep link is more specific than /start.
    # Member routers answer private chats only; outside them, the admin chat's
    # routers answer admin commands and ``elsewhere`` points members to private.
    root.include_routers(
        threads.router,
        comment_actions.router,
        hidden_comments.router,
        confession_reports.router,
        confession_reports.admin_router,
        # Before admin (its /settings warn_…) and start (/start write).
        warns.router,
        conversations.admin_router,
        conversations.router,
        # A third of all updates: as early as nothing before it could take them.
        confess.router,
        panel.router,
        moderation.router,
        admin.router,
        start.router,
        my.router,
        profile.router,
        settings.router,
        deleteme.router,
        confess.rest_router,
        elsewhere.router,
        fallback.router,
    )
    return root
