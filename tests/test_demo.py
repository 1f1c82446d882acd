"""The README's demo: real servers on loopback, a real client, a real TLS handshake."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_demo_tour_keeps_every_promise():
    result = subprocess.run(
        [sys.executable, "examples/demo.py", "--exit-after-tour"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout
    assert result.stdout.count("   ok ") == 5
    assert "302 Location: https://127.0.0.1:" in result.stdout
    assert "200 Strict-Transport-Security: max-age=31536000" in result.stdout
    assert "307 Location: https://127.0.0.1:" in result.stdout
    assert "'received over https: order=42'" in result.stdout
