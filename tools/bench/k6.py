"""Running the bench's k6 script (``webhook.js`` beside this module) in one of its modes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.devstack.ports import free_port

SCRIPT = Path(__file__).resolve().parent / "webhook.js"


def run_k6(config: Path, mode: str, summary: Path) -> dict[str, Any]:
    """Run ``webhook.js`` in ``mode`` (count, mixed, reference, chaos) with ``config``;
    return the metrics of its end-of-test summary (written to ``summary``)."""
    env = {
        **os.environ,
        "BENCH_CONFIG": str(config),
        "MODE": mode,
        "SUMMARY_PATH": str(summary),
        "K6_NO_USAGE_REPORT": "true",
    }
    k6 = str(Path(sys.executable).parent / "k6")
    # k6's REST API listens on localhost:6565 by default: a second k6 on the
    # machine (another checkout's bench) would fail to start.
    api = f"127.0.0.1:{free_port()}"
    subprocess.run(
        [k6, "run", "--quiet", "--address", api, str(SCRIPT)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return dict(json.loads(summary.read_text())["metrics"])
