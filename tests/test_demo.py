"""The README's demo: real servers on loopback, a real client, a real TLS handshake."""

from __future__ import annotations

import pathlib
import re
import signal
import subprocess
import sys

import pytest

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
    assert "throwaway local certificate authority" in result.stdout
    assert "self-signed" not in result.stdout


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_demo_removes_its_certificates_when_stopped(stop):
    demo = subprocess.Popen(
        [sys.executable, "-u", "examples/demo.py"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        seen = []
        for line in demo.stdout:
            seen.append(line)
            if line.startswith("Serving until Ctrl-C"):
                break
        ca_file = re.search(r"its CA certificate is (\S+) ", "".join(seen))
        assert ca_file is not None, "".join(seen)
        directory = pathlib.Path(ca_file.group(1)).parent
        assert (directory / "server-key.pem").is_file()
        demo.send_signal(stop)
        _, errors = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    # Exited through its cleanup, not killed by the signal.
    assert demo.returncode >= 0, errors
    assert not directory.exists(), sorted(path.name for path in directory.iterdir())
