"""The guard's blinker signal: count what it answers (docs: api, signals)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent, with the app as sender, for each plain-HTTP request the guard
#: redirects or refuses (or, with ``report_only``, would), also by marks that
#: enforce themselves on an app without a guard. Receivers get ``request``
#: (routed, so ``request.endpoint`` is set; no app context) and ``decision``
#: (a :class:`~flask_https_guard.Decision`).
insecure_request = _signals.signal("insecure-request")
