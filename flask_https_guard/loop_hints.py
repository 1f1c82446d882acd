"""Why a request about to be redirected may already have arrived over https.

"Infinite redirect behind my load balancer" is the most common support
question for HTTPS redirects: the proxy terminated TLS and said so in a
header the guard was not told to believe. Just before redirecting, the guard
asks :func:`loop_hint` whether some header says https; if one does, it logs
the setting that would make the guard believe it (once per app).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from .proxies import FORWARDED, X_FORWARDED_PROTO

if TYPE_CHECKING:
    from .options import GuardOptions

#: Headers that platforms use to say "https", with the value that means it
#: (None: present means https). Used only to explain a loop, never trusted.
KNOWN_HTTPS_HEADERS = {
    "X-Forwarded-Ssl": "on",
    "Front-End-Https": "on",
    "X-ARR-SSL": None,
    "CF-Visitor": '{"scheme":"https"}',
    "X-Forwarded-Scheme": "https",
    "X-Scheme": "https",
    "X-AppEngine-Https": "on",
    "X-AppService-Proto": "https",
    "Fly-Forwarded-Proto": "https",
}

_HINT_KEYS = frozenset(
    [X_FORWARDED_PROTO, FORWARDED]
    + ["HTTP_" + name.upper().replace("-", "_") for name in KNOWN_HTTPS_HEADERS]
)


def loop_hint(environ: dict[str, Any], options: GuardOptions) -> Optional[str]:
    """None when no header says https; otherwise a sentence naming the header
    and the setting that would make the guard believe it."""
    if _HINT_KEYS.isdisjoint(environ):
        return None
    return (
        _x_forwarded_proto_hint(environ.get(X_FORWARDED_PROTO), options)
        or _forwarded_hint(environ.get(FORWARDED), options)
        or _platform_header_hint(environ, options)
    )


def _x_forwarded_proto_hint(proto: Optional[str], options: GuardOptions) -> Optional[str]:
    if proto is None or "https" not in proto.lower():
        return None
    count = options.trusted_proxies
    entries = [entry.strip().lower() for entry in proto.split(",")]
    if count == 0:
        return (
            f"X-Forwarded-Proto says {proto!r} but trusted_proxies is 0, so no"
            " proxy header is believed. Set trusted_proxies"
            " (HTTPS_GUARD_TRUSTED_PROXIES) to the number of entries your"
            f" proxies add to X-Forwarded-Proto (here {len(entries)} arrived)."
        )
    if len(entries) < count:
        return (
            f"X-Forwarded-Proto has {len(entries)} entries ({proto!r}) but"
            f" trusted_proxies is {count}, so none is believed. Count the entries"
            " your proxies add, not the proxies: a proxy that replaces the header"
            f" (nginx's $scheme) leaves one. Try trusted_proxies={len(entries)}."
        )
    if "forwarded" not in options.trusted_proxy_headers and entries[-count] != "https":
        return (
            f"X-Forwarded-Proto is {proto!r}: the entry trusted_proxies={count}"
            f" points at says {entries[-count]!r}. If the https entries further"
            " left were added by proxies you run too, raise trusted_proxies;"
            " if a proxy of yours writes its own hop's scheme there, set the"
            " client's scheme instead."
        )
    return None


def _forwarded_hint(forwarded: Optional[str], options: GuardOptions) -> Optional[str]:
    if forwarded is None or "proto=https" not in forwarded.lower().replace('"', ""):
        return None
    if "forwarded" in options.trusted_proxy_headers and options.trusted_proxies:
        return None
    return (
        f"Forwarded says {forwarded!r}, which the guard reads only when"
        " trusted_proxy_headers includes 'forwarded' (and trusted_proxies"
        " is 1 or more)."
    )


def _platform_header_hint(environ: dict[str, Any], options: GuardOptions) -> Optional[str]:
    configured = options.https_header[0].lower() if options.https_header else None
    for name, value in KNOWN_HTTPS_HEADERS.items():
        said = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if said is None or (value is not None and said.strip().lower() != value.lower()):
            continue
        if configured == name.lower():
            continue
        suggestion = name if value is None else f"{name}: {value}"
        return (
            f"{name} says {said!r}. If your platform's front end writes it (overwriting"
            " what a client sends; see the proxies page of the docs), set"
            f" https_header={suggestion!r} (HTTPS_GUARD_HTTPS_HEADER)"
            + (" and trusted_proxies=1" if options.trusted_proxies == 0 else "")
            + "."
        )
    return None
