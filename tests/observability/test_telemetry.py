"""Bot tokens never leave a process in a span; the JSON-lines span file; sampling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tools.devstack.stack import REPO_ROOT
from veil.core.telemetry import JsonLinesExporter, ScrubbingProcessor, scrub, telegram_method

TOKEN = "7000000001:AAE-fake_token-value"


def test_bot_api_urls_are_scrubbed_and_named_by_method() -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    assert scrub(url) == "https://api.telegram.org/bot<token>/sendMessage"
    assert telegram_method(url) == "sendMessage"
    assert telegram_method("http://127.0.0.1:5/control/stats") is None
    assert scrub("nothing to see") == "nothing to see"


def test_finished_spans_are_scrubbed_before_export(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "gateway.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(ScrubbingProcessor(SimpleSpanProcessor(JsonLinesExporter(path))))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(f"GET /bot{TOKEN}/getMe", attributes={"n": 1}) as span:
        span.set_attribute("url.full", f"http://127.0.0.1/bot{TOKEN}/getMe")
        span.add_event("exception", {"exception.message": f"cannot reach /bot{TOKEN}/getMe"})
    with tracer.start_as_current_span("clean", attributes={"veil.community_id": 7}):
        pass
    provider.shutdown()

    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert TOKEN.split(":")[1] not in path.read_text()
    scrubbed, clean = (json.loads(line) for line in lines)
    assert scrubbed["name"] == "GET /bot<token>/getMe"
    assert scrubbed["attributes"] == {"n": 1, "url.full": "http://127.0.0.1/bot<token>/getMe"}
    assert scrubbed["events"][0]["attributes"]["exception.message"].endswith("bot<token>/getMe")
    assert clean["name"] == "clean" and clean["attributes"] == {"veil.community_id": 7}


def test_recorded_exceptions_are_exported_without_member_text(tmp_path: Path) -> None:
    """What a driver quotes of a failed statement's values never leaves the process."""
    path = tmp_path / "traces" / "confessions.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(ScrubbingProcessor(SimpleSpanProcessor(JsonLinesExporter(path))))
    secret = "my boss is a marmoset"

    def fail() -> None:
        try:
            raise ValueError(f"invalid input for query argument $4: '{secret}' (too long)")
        except ValueError as error:
            raise RuntimeError(
                f"(asyncpg.DataError) bad value\n[SQL: INSERT …]\n[parameters: ('{secret}',)]"
            ) from error

    tracer = provider.get_tracer("test")
    with pytest.raises(RuntimeError), tracer.start_as_current_span("INSERT confessions"):
        fail()
    provider.shutdown()

    exported = path.read_text()
    assert secret not in exported and "[parameters:" not in exported
    (span,) = (json.loads(line) for line in exported.splitlines())
    event = span["events"][0]["attributes"]
    assert event["exception.type"] == "RuntimeError"
    assert event["exception.message"] == "(asyncpg.DataError) bad value"
    # The frames are kept: on-call still sees where it failed.
    assert "in fail" in event["exception.stacktrace"]
    assert (
        "ValueError: invalid input for query argument $4: … (too long)"
        in event["exception.stacktrace"]
    )


_SAMPLING_PROBE = """
import sys
from opentelemetry import propagate, trace
from veil.core.settings import TelemetrySettings
from veil.core.telemetry import setup_tracing, tracer

telemetry = setup_tracing("probe", TelemetrySettings(
    trace_file=sys.argv[1], trace_sample_ratio=float(sys.argv[2]), pod_name="probe-0",
    pod_namespace="veil"))
with tracer().start_as_current_span("new trace"):
    pass
# A caller that sampled its trace: followed whatever the ratio.
sampled = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
with tracer().start_as_current_span("followed", context=propagate.extract(sampled)):
    pass
telemetry.shutdown()
"""


@pytest.mark.parametrize(
    ("ratio", "expected"), [("1.0", {"new trace", "followed"}), ("0", {"followed"})]
)
def test_sampling_is_parent_based_by_ratio(tmp_path: Path, ratio: str, expected: set[str]) -> None:
    # A process of its own: setting up tracing instruments libraries process-wide.
    path = tmp_path / "spans.jsonl"
    subprocess.run(
        [sys.executable, "-c", _SAMPLING_PROBE, str(path), ratio],
        check=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=60,
    )
    spans = [json.loads(line) for line in path.read_text().splitlines()]
    assert {s["name"] for s in spans} == expected
    resource = spans[0]["resource"]["attributes"]
    assert resource["service.name"] == "veil-probe"
    assert resource["k8s.pod.name"] == "probe-0" and resource["k8s.namespace.name"] == "veil"
