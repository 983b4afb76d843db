"""Bot tokens never leave a process in a span; make up's JSON-lines span file."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

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
