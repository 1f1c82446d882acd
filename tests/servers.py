"""Real servers for end-to-end tests: start on free loopback ports, stop by PID.

A test that needs nginx, gunicorn or curl skips when the program is missing,
except under CI=true, where a missing program is a failure: CI must run
every test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Optional

import pytest

LOOPBACK = "127.0.0.1"
_EXTRA_PATHS = "/usr/sbin:/usr/local/sbin:/sbin"


def require_program(name: str) -> str:
    """The path of ``name``; skip (fail under CI) when it is not installed."""
    path = shutil.which(name) or shutil.which(name, path=_EXTRA_PATHS)
    if path is None:
        missing(f"{name} is not installed")
    return path  # type: ignore[return-value]


def require_module(name: str) -> None:
    """Skip (fail under CI) when the Python module ``name`` is missing."""
    try:
        __import__(name)
    except ImportError:
        missing(f"the Python package {name} is not installed")


def missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI must run every test (.ci/run installs it)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class ManagedProcess:
    """A server process started by a test, stopped by its own PID."""

    def __init__(
        self, name: str, args: list[str], log: Path, env: Optional[dict[str, str]] = None
    ) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            args, stdout=self._log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def wait_for_port(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited early:\n{self.log.read_text(errors='replace')}"
                )
            try:
                with socket.create_connection((LOOPBACK, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(
            f"{self.name} did not listen on {port}:\n{self.log.read_text(errors='replace')}"
        )

    def stop(self) -> None:
        # The process leads its own session: signal it by PID, and its whole
        # group (gunicorn's and nginx's workers) if it lingers.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log_file.close()
