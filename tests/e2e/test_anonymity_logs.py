"""No Telegram id, username or name of a member in any log line or Redis key."""

from __future__ import annotations

import pytest

from tests.support.forced_error import FORCED_TEXT, PARAMETERS_MARK, force_database_error
from tests.support.world import World, buttons
from tools.devstack.infra.config import InfraConfig
from veil.core.redis import connect_redis_cluster


@pytest.mark.last
async def test_no_member_identity_in_logs_or_redis(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    member = community.member(first_name="Zelda")
    await member.start()
    await member.send("✍️ New confession")
    await member.send("a secret only I know")
    preview = await member.last()
    await member.press(preview["message_id"], buttons(preview)["✅ Send"])
    await member.send("/my")
    # A failed statement whose values are member text (and the same text sent
    # through the gateway): no log line may quote it.
    forced = await force_database_error(community)
    assert forced.details == "internal error"
    assert "is waiting for review" in forced.gateway_answer

    # Every member any test of this run created, not only Zelda.
    assert member.user_id in world.user_ids
    needles = {str(uid) for uid in world.user_ids} | {f"u{uid}" for uid in world.user_ids}
    needles |= {"Zelda", "a secret only I know", FORCED_TEXT, PARAMETERS_MARK}
    logs = sorted((infra_config.root / "logs").glob("*.log"))
    veil_logs = [p for p in logs if p.stem in {"gateway", "confessions", "social", "notifier"}]
    assert {p.stem for p in veil_logs} == {"gateway", "confessions", "social", "notifier"}
    for path in veil_logs:
        text = path.read_text(errors="replace")
        assert text.strip(), f"{path.name} is empty: logging is not wired"
        leaked = sorted(n for n in needles if n in text)
        assert not leaked, f"{path.name} contains {leaked[:5]}"
    # The failure was logged, by its kind and place.
    confessions_log = next(p for p in veil_logs if p.stem == "confessions").read_text()
    assert "rpc failed" in confessions_log and "SubmitConfession" in confessions_log

    client = await connect_redis_cluster(infra_config.redis_nodes())
    try:
        keys = [k.decode() async for k in client.scan_iter(count=1000)]
    finally:
        await client.aclose()
    assert keys, "the run left no Redis state at all"
    leaked_keys = [k for k in keys if any(str(uid) in k for uid in world.user_ids)]
    assert not leaked_keys, leaked_keys[:5]
