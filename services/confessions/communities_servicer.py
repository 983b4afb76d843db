"""gRPC handlers of CommunitiesService: communities and the rules their admins set."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import grpc

from services.confessions import domain, mapping
from services.confessions.cards import CardRetirement
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.domain import Rules
from services.confessions.safety_rules import SAFETY_FIELDS
from veil.core.errors import InvalidInputError
from veil.v1 import confessions_pb2 as pb
from veil.v1 import confessions_pb2_grpc as pb_grpc


class CommunitiesServicer(pb_grpc.CommunitiesServiceServicer):
    """Thin handlers over :class:`CommunitiesRepository`."""

    def __init__(self, repository: CommunitiesRepository, cards: CardRetirement) -> None:
        self._repository = repository
        self._cards = cards

    async def UpsertCommunity(
        self, request: pb.UpsertCommunityRequest, context: grpc.aio.ServicerContext
    ) -> pb.Community:
        """Register or update a community."""
        row = await self._repository.upsert_community(
            bot_id=domain.parse_bot_id(request.bot_token),
            bot_token=request.bot_token,
            bot_username=request.bot_username.lstrip("@"),
            channel_chat_id=request.channel_chat_id,
            admin_chat_id=request.admin_chat_id,
            title=request.title or request.bot_username,
        )
        return mapping.community(row, include_secrets=False)

    async def ListCommunities(
        self, request: pb.ListCommunitiesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCommunitiesResponse:
        """Every community; tokens only when asked for."""
        rows = await self._repository.list_communities()
        return pb.ListCommunitiesResponse(
            communities=[
                mapping.community(r, include_secrets=request.include_secrets) for r in rows
            ]
        )

    async def GetCommunityRules(
        self, request: pb.GetCommunityRulesRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityRules:
        """The community's rules."""
        rules = await self._repository.rules(request.community_id)
        return mapping.rules(request.community_id, rules)

    async def SetCommunityRule(
        self, request: pb.SetCommunityRuleRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityRules:
        """Change one rule from the admin's text; a bad value is INVALID_ARGUMENT."""
        current = await self._repository.rules(request.community_id)
        changes = domain.apply_rule(current, request.name, request.value)
        rules = await self._set_rules(request.community_id, changes)
        return mapping.rules(request.community_id, rules)

    async def SetCommunityRules(
        self, request: pb.SetCommunityRulesRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityRules:
        """Several rules at once: all checked first, then stored in one statement."""
        if not request.settings:
            raise InvalidInputError("no rule to change")
        rules = await self._repository.rules(request.community_id)
        changes: dict[str, Any] = {}
        for setting in request.settings:
            for name, value in _as_commands(setting):
                # A replaced list of reasons starts empty (/settings has no "clear" for it).
                change = (
                    {"reject_reasons": []}
                    if (name, value) == ("reasons", "clear")
                    else domain.apply_rule(rules, name, value)
                )
                changes |= change
                fields: dict[str, Any] = {
                    k: tuple(v) if isinstance(v, list) else v for k, v in change.items()
                }
                # The trust-and-safety rules live in rules.safety (safety_rules.py).
                safety = {k: v for k, v in fields.items() if k in SAFETY_FIELDS}
                rules = replace(
                    rules,
                    **{k: v for k, v in fields.items() if k not in safety},
                    safety=replace(rules.safety, **safety),
                )
        stored = await self._set_rules(request.community_id, changes)
        return mapping.rules(request.community_id, stored)

    async def _set_rules(self, community_id: int, changes: dict[str, Any]) -> Rules:
        """Store the changes; the gateways' card of the comment rules is retired
        around them (the next comment asks RegisterMember for the new ones)."""
        async with self._cards.around(self._cards.rules_keys(community_id)):
            return await self._repository.set_rules(community_id, changes)


def _as_commands(setting: pb.RuleSetting) -> list[tuple[str, str]]:
    """A form's setting as /settings commands: a list replaced is cleared, then refilled."""
    name = setting.name.strip().lower()
    if not setting.replace_list:
        return [(name, setting.value)]
    items = [item.strip() for item in setting.items]
    if any(not item or "\n" in item for item in items):
        raise InvalidInputError(f"{name}: one non-empty line per entry")
    if name == "words":
        if any("," in item for item in items):
            raise InvalidInputError("a filter word may not contain a comma")
        return [("words", "clear")] + ([("words", "add " + ", ".join(items))] if items else [])
    if name == "reasons":
        if len(items) > domain.MAX_REASONS:
            raise InvalidInputError(f"at most {domain.MAX_REASONS} reasons")
        return [("reasons", "clear")] + [("reasons", f"add {item}") for item in items]
    raise InvalidInputError("only words and reasons are lists")
