"""``flask https-guard probe URL``: check a deployed site from the outside.

The probe asks a live site what a browser would be told. It requests the URL
over plain HTTP, follows every redirect itself, one hop at a time, and
reports each hop (status, Location, Strict-Transport-Security, certificate).
Then it checks the chain: the first hop goes to https on the same host, https
responses carry HSTS, the HSTS preload list's requirements, the certificate,
mixed content in the final page, loops and overlong chains. Each problem is a
finding with a stable ID (``HP001``...) and a level. It needs no app and only
the standard library (and click, which comes with Flask)::

    flask https-guard probe http://example.com/
    python -m flask_https_guard.probe http://example.com/ --json

Exit status: 0 when no finding reaches ``--fail-level`` (``warning`` by
default), 1 when one does, 2 for a bad command line (not a URL, a bad
``--resolve`` entry or CA file).

From Python, :func:`probe` returns a :class:`ProbeReport`::

    report = probe("http://example.com/")
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
