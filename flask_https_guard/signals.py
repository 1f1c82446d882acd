"""The guard's blinker signal, for metrics and report-only roll-outs.

``insecure_request`` is sent, with the app as sender, for every plain-HTTP
request the guard would redirect (or refuses), in enforcing and in
report-only mode alike::

    from flask_https_guard.signals import insecure_request

    @insecure_request.connect_via(app)
    def count(app, request, decision):
        metrics.increment("insecure", tags={"endpoint": request.endpoint})

``decision`` is a :class:`~flask_https_guard.policy.Decision` saying why the
request is guarded. Receivers connect per app (``connect_via(app)``) or for
every app; nothing is sent for apps without a guard.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent for each plain-HTTP request that the guard redirects, refuses or,
#: with ``report_only``, would redirect.
insecure_request = _signals.signal("insecure-request")
