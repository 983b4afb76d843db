"""The emulator's whole state: the world, flood control, armed faults, counters."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from tools.telegram_emulator.faults import Faults
from tools.telegram_emulator.flood import FloodControl, FloodLimits
from tools.telegram_emulator.model import World


@dataclass
class Emulator:
    """Everything one emulator process holds; the web handlers share it."""

    world: World = field(default_factory=World)
    flood: FloodControl = field(default_factory=lambda: FloodControl(FloodLimits()))
    faults: Faults = field(default_factory=Faults)
    stats: Counter[str] = field(default_factory=Counter)
    poll_events: dict[int, asyncio.Event] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every bot, chat, fault and counter (flood limits stay as set)."""
        self.world = World()
        self.flood.clear()
        self.faults.clear()
        self.stats.clear()
        self.poll_events.clear()

    def poll_event(self, bot_id: int) -> asyncio.Event:
        """Set when an update waits for ``getUpdates``."""
        return self.poll_events.setdefault(bot_id, asyncio.Event())
