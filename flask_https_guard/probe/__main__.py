"""``python -m flask_https_guard.probe URL``: the probe without the flask command."""

from .command import probe_command

probe_command(prog_name="python -m flask_https_guard.probe")
