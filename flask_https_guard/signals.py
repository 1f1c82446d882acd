"""The guard's blinker signal: count what it answers, for metrics and roll-outs.

The guard answers before Flask runs, so Flask instrumentation never sees
these requests; this signal does::

    from flask_https_guard import insecure_request

    @insecure_request.connect_via(app)
    def count(app, request, decision):
        metrics.increment("insecure", tags={"endpoint": request.endpoint})
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent, with the app as sender, for each plain-HTTP request the guard
#: redirects or refuses (or, with ``report_only``, would), also by marks that
#: enforce themselves on an app without a guard. Receivers get ``request``
#: (routed, so ``request.endpoint`` is set; no app context) and ``decision``
#: (a :class:`~flask_https_guard.Decision`).
insecure_request = _signals.signal("insecure-request")
