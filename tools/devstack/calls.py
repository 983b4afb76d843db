"""Who calls whom, read from the one place it is written: the chart's values.yaml
(``components``: each process and the gRPC services it calls).

The chart turns that map into each process's ``VEIL_<SERVICE>_ADDR`` and each
service's NetworkPolicy; the local stack gives each process the same addresses.
"""

from __future__ import annotations

import functools

import yaml

from tools.devstack.infra.config import REPO_ROOT

CHART_VALUES = REPO_ROOT / "deploy" / "helm" / "veil" / "values.yaml"


def process_name(component: str) -> str:
    """The local stack's name of a chart component (notifierWorker -> notifier-worker)."""
    return "notifier-worker" if component == "notifierWorker" else component


@functools.cache
def calls() -> dict[str, tuple[str, ...]]:
    """Process name (as the local stack spells it) -> the gRPC services it calls."""
    values = yaml.safe_load(CHART_VALUES.read_text())
    return {
        process_name(component): tuple(entry["calls"])
        for component, entry in values["components"].items()
    }
