"""``flask https-guard probe URL``: check a deployed site from the outside.

From Python, :func:`probe` returns a :class:`ProbeReport`. The modules, in
the order a probe runs: ``hops``, ``hsts``, ``mixed_content``, ``findings``
(the checks and their IDs), ``report`` and ``command`` (the click command).
"""

from .command import probe_command
from .hops import Hop, ProbeUsageError
from .hsts import parse_hsts
from .report import ProbeReport, probe

__all__ = ["Hop", "ProbeReport", "ProbeUsageError", "parse_hsts", "probe", "probe_command"]
