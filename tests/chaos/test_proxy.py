"""make chaos's reverse proxy: the generated nginx config, booted in front of two backends."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tools.chaos.proxy import Proxy, render_config
from tools.devstack.ports import free_port


def _backend(name: str, seen: list[str]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(f"{name}:{json.loads(body)['update_id']}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def backends() -> Iterator[tuple[list[ThreadingHTTPServer], list[str]]]:
    """Two webhook stand-ins recording which of them got each update."""
    seen: list[str] = []
    servers = [_backend("a", seen), _backend("b", seen)]
    yield servers, seen
    for server in servers:
        server.shutdown()
        server.server_close()


def _post(url: str, update_id: int) -> int:
    request = urllib.request.Request(
        url, data=json.dumps({"update_id": update_id}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def test_config_listens_on_loopback_only(tmp_path: Path) -> None:
    text = render_config(tmp_path, 18080, [18081, 18082])
    listens = [line.split()[1] for line in text.splitlines() if line.strip().startswith("listen")]
    assert listens == ["127.0.0.1:18080;"]
    assert "server 127.0.0.1:18081" in text and "server 127.0.0.1:18082" in text
    assert "proxy_next_upstream error timeout" in text


def test_proxy_balances_and_survives_a_dead_backend(
    tmp_path: Path, backends: tuple[list[ThreadingHTTPServer], list[str]]
) -> None:
    servers, seen = backends
    proxy = Proxy(tmp_path, free_port(), [s.server_address[1] for s in servers])
    proxy.start()
    try:
        for n in range(4):
            assert _post(f"{proxy.url}/webhook/1", n) == 200
        assert {s.split(":")[0] for s in seen} == {"a", "b"}
        servers[0].shutdown()
        servers[0].server_close()
        seen.clear()
        # Every update still answered 200, each by the live backend exactly once.
        for n in range(10, 16):
            assert _post(f"{proxy.url}/webhook/1", n) == 200
        assert seen == [f"b:{n}" for n in range(10, 16)]
    finally:
        proxy.stop()
