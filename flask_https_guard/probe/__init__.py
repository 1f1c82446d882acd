"""``flask https-guard probe URL``: check a deployed site from the outside.

The probe requests the URL over plain HTTP and follows every redirect
itself, one hop at a time, reporting each hop (status, Location,
Strict-Transport-Security, certificate). Then it checks the chain: the first
hop goes to https on the same host, https responses carry HSTS, the HSTS
preload list's requirements, the certificate, mixed content in the final
page, loops and overlong chains. ``--subdomain NAME`` also requests
``https://NAME/``, which includeSubDomains would make browsers require. Each
problem is a finding with a stable ID (``HP001``...) and a level. It needs
no app and only the standard library (and click, which comes with Flask).
The command line is in ``command``, with its exit statuses; from Python,
:func:`probe` returns a :class:`ProbeReport`::

    report = probe("http://example.com/", subdomains=["www.example.com"])
    if report.failed("warning"):
        print([finding.id for finding in report.findings])

The modules, in the order a probe runs: ``hops`` (requests, one hop at a
time), ``hsts`` (the header and the preload list), ``mixed_content``,
``findings`` (the checks and their IDs), ``report`` (:func:`probe` and the
human output), ``command`` (the click command).
"""

from ..findings import LEVELS, Finding
from .command import probe_command
from .hops import Hop, ProbeUsageError
from .hsts import parse_hsts
from .report import ProbeReport, probe

__all__ = [
    "LEVELS",
    "Finding",
    "Hop",
    "ProbeReport",
    "ProbeUsageError",
    "parse_hsts",
    "probe",
    "probe_command",
]
