"""What the ``flask https-guard`` commands report, as plain data.

``route_policies`` asks the app's guard for each URL rule's decision, the
same call the request path makes, with example paths of the rule in the
form a request hands them over, so the audit cannot drift from what
requests get. ``check_app`` audits the effective configuration for
production, in the spirit of Django's ``check --deploy``; each finding has a
stable ID that scripts and docs can refer to:

======  =======  ==============================================================
ID      Level    Meaning
======  =======  ==============================================================
HG000   error    No HTTPSGuard and no ``@require_https`` mark that enforces
                 itself: plain HTTP is served as it comes.
HG001   error    The guard is disabled (``enabled=False``).
HG002   error    Debug mode, so the guard is inactive (a warning when
                 ``enabled=True`` keeps it on).
HG003   warning  HSTS is off.
HG004   warning  HSTS max-age below one year (or 0, which makes browsers
                 forget the policy).
HG005   error    HSTS preload asked for, but plain HTTP does not redirect to
                 https on the same host first.
HG006   warning  ``SESSION_COOKIE_SECURE`` is off.
HG007   warning  No ``TRUSTED_HOSTS``, ``SERVER_NAME`` or ``redirect_host``: the redirect
                 follows the client's Host header.
HG008   warning  An exempt route accepts POST, PUT, PATCH or DELETE.
HG009   info     Which layer decides a request's scheme.
HG010   warning  Proxy trust configured twice: the app's own ``ProxyFix``
                 (``x_proto``) and ``trusted_proxies``, so forwarded entries
                 are counted twice.
HG011   info     Redirects are temporary (302/307).
HG012   warning  Views are marked ``@require_https`` but the app has no
                 HTTPSGuard: the marks enforce themselves with default
                 options, without the app's ``HTTPS_GUARD_*`` config.
HG013   error    A ``@require_https`` mark that nothing enforces on an app
                 without a guard (placed above ``@app.route``, or on a
                 blueprint after it was registered).
HG014   warning  Flask-Talisman also forces https or sends HSTS (error when
                 its HSTS blocks the guard's ``hsts_max_age=0`` roll-back).
HG015   info     Templates are served over https without
                 ``upgrade_insecure_requests``.
HG016   warning  ``report_only`` is on: nothing is redirected, no HSTS.
HG017   warning  A ``skips`` entry matches no route.
HG018   info     ``PREFERRED_URL_SCHEME`` is ``http``: URLs built outside a
                 request (e-mails from CLI commands, task queues) say http.
HG019   info     ``app.wsgi_app`` was already wrapped at ``init_app``, so
                 plain HTTP is answered from a before_request function
                 instead of before the app.
======  =======  ==============================================================

Where each part lives, bottom to top (imports flow one way):

- :mod:`.findings`: ``Finding``, ``LEVELS`` and ``reaches``;
- :mod:`.route_policy`: ``RoutePolicy``, one rule's entry in the listing;
- :mod:`.rule_paths`: example request paths of a URL rule;
- :mod:`.talisman`: a Flask-Talisman on the same app, detected;
- :mod:`.unguarded`: an app without a guard (its routes, HG000, HG012, HG013);
- :mod:`.routes`: ``route_policies``;
- :mod:`.hsts_checks`, :mod:`.proxy_checks`, :mod:`.route_checks`: the
  findings about HSTS, the scheme's source and individual routes;
- :mod:`.checks`: ``check_app``, which runs them all.
"""

from __future__ import annotations

from .checks import check_app
from .findings import LEVELS, Finding, reaches
from .route_policy import RoutePolicy
from .routes import route_policies
from .talisman import TalismanSettings

__all__ = [
    "LEVELS",
    "Finding",
    "RoutePolicy",
    "TalismanSettings",
    "check_app",
    "reaches",
    "route_policies",
]
