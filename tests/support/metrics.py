"""Scraping and parsing the processes' Prometheus /metrics pages."""

from __future__ import annotations

import re
from collections.abc import Iterable

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tools.devstack.environment import SERVICES, WORKERS
from tools.devstack.stack import Stack

PROCESSES = ("gateway", *SERVICES, *WORKERS)


# Series names in PromQL: veil_… (label names and functions never start so).
SERIES = re.compile(r"\bveil_[a-z0-9_]+")


# What a family of each type exposes besides its own name.
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
    "gauge": (),
}


async def scrape(http: aiohttp.ClientSession, stack: Stack, name: str) -> str:
    """The /metrics page of one process."""
    async with http.get(f"http://127.0.0.1:{stack.ports.metrics(name)}/metrics") as response:
        assert response.status == 200, name
        return await response.text()


def samples(page: str) -> list[tuple[str, dict[str, str], float]]:
    """(series name, labels, value) of every sample on a page."""
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(page)
        for s in family.samples
    ]


def exported_series(pages: Iterable[str]) -> set[str]:
    """Every series name the pages declare (also those without samples yet)."""
    names: set[str] = set()
    for page in pages:
        for line in page.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ", 3)
                names.add(name)
                base = name.removesuffix("_total")
                names.update(base + suffix for suffix in _SUFFIXES.get(kind, ()))
    return names


def total(page: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(
        value
        for series, got, value in samples(page)
        if series == name and labels.items() <= got.items()
    )
