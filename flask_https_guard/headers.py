"""The headers of secure responses: HSTS, ``Secure`` cookies, ``upgrade-insecure-requests``.

One applier, :class:`SecureHeaders`, for the guard (on the WSGI header list),
marks without a guard and the SSLify drop-in (on a response's ``Headers``).
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Any, Optional, Union

from werkzeug.datastructures import Headers

from .location import is_local_host

HSTS_HEADER = "Strict-Transport-Security"
CSP_HEADER = "Content-Security-Policy"
UPGRADE_INSECURE_REQUESTS = "upgrade-insecure-requests"
#: The smallest max-age the HSTS preload list accepts (hstspreload.org).
PRELOAD_MIN_MAX_AGE = 31536000

HeaderList = Union[MutableSequence[tuple[str, str]], Headers]


def hsts_error(
    max_age: Any, include_subdomains: bool, preload: bool, /, **names: str
) -> Optional[Exception]:
    """Why a policy would be refused, as the exception to raise; None if it is valid.

    Browsers and the preload list reject these policies, so they fail when the
    app starts rather than silently in the field. ``names`` says how the
    caller's user wrote ``max_age``, ``include_subdomains`` and ``preload``.
    """
    defaults = {"include_subdomains": "include_subdomains=True", "preload": "preload=True"}
    name = {"max_age": "max_age", **defaults, **names}
    if isinstance(max_age, bool) or not isinstance(max_age, int):
        return TypeError(f"{name['max_age']} must be a whole number of seconds, got {max_age!r}")
    if max_age < 0:
        return ValueError(f"{name['max_age']} must be 0 or more seconds, got {max_age}")
    if preload and not include_subdomains:
        return ValueError(
            f"{name['preload']} requires {name['include_subdomains']}: the HSTS preload"
            " list only accepts policies that cover every subdomain"
        )
    if preload and max_age < PRELOAD_MIN_MAX_AGE:
        return ValueError(
            f"{name['preload']} requires {name['max_age']} of at least {PRELOAD_MIN_MAX_AGE}"
            f" (one year), the preload list's minimum; got {max_age}"
        )
    return None


def hsts_value(max_age: int, include_subdomains: bool, preload: bool) -> str:
    """The header value for a policy, spelled without checking it (see :func:`hsts_error`)."""
    directives = [f"max-age={max_age}"]
    if include_subdomains:
        directives.append("includeSubDomains")
    if preload:
        directives.append("preload")
    return "; ".join(directives)


class HSTSPolicy:
    """An HTTP Strict Transport Security policy (RFC 6797); ``str()`` is the header value.

    Refuses what a browser or the preload list would reject: ``max_age`` must
    be whole seconds, 0 or more (0 tells browsers to forget the host);
    ``preload`` needs ``include_subdomains`` and at least a year.

    >>> from flask_https_guard import HSTSPolicy
    >>> str(HSTSPolicy())
    'max-age=31536000'
    """

    __slots__ = ("include_subdomains", "max_age", "preload", "value")

    def __init__(
        self, max_age: int = 31536000, include_subdomains: bool = False, preload: bool = False
    ) -> None:
        error = hsts_error(max_age, include_subdomains, preload)
        if error is not None:
            raise error
        self.max_age = max_age
        self.include_subdomains = include_subdomains
        self.preload = preload
        self.value = hsts_value(max_age, include_subdomains, preload)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return (
            f"HSTSPolicy(max_age={self.max_age}, include_subdomains="
            f"{self.include_subdomains}, preload={self.preload})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HSTSPolicy) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def apply(self, headers: HeaderList) -> None:
        """Add the header to ``headers`` unless the response already has one."""
        SecureHeaders(self, secure_cookies=False, upgrade_insecure_requests=False).apply(headers)


class SecureHeaders:
    """What a secure response gets, resolved once; :meth:`apply` runs per response."""

    __slots__ = ("hsts_value", "secure_cookies", "upgrade_insecure_requests")

    def __init__(
        self, hsts: Optional[HSTSPolicy], secure_cookies: bool, upgrade_insecure_requests: bool
    ) -> None:
        self.hsts_value = hsts.value if hsts is not None else None
        self.secure_cookies = secure_cookies
        self.upgrade_insecure_requests = upgrade_insecure_requests

    def __bool__(self) -> bool:
        return self.hsts_value is not None or self.secure_cookies or self.upgrade_insecure_requests

    def apply(self, headers: HeaderList, host: str = "") -> None:
        """Add what is missing to ``headers`` (a WSGI list or a Werkzeug ``Headers``).

        ``Strict-Transport-Security`` unless the app set one; ``Secure`` on every
        cookie that lacks it; ``upgrade-insecure-requests`` merged into the
        app's Content-Security-Policy. For a local ``host`` (:func:`is_local_host`)
        neither HSTS nor the upgrade. One pass, and the list is only touched
        for what is missing.
        """
        hsts_missing = self.hsts_value is not None
        cookies = policy = -1
        for index, (name, _) in enumerate(headers):
            lowered = name.lower()
            if lowered == "strict-transport-security":
                hsts_missing = False
            elif lowered == "set-cookie":
                cookies = index
            elif lowered == "content-security-policy":
                policy = index
        if cookies >= 0 and self.secure_cookies:
            _mark_cookies_secure(headers)
        if host and "localhost" in host.lower() and is_local_host(host):
            return
        if hsts_missing:
            _add(headers, HSTS_HEADER, self.hsts_value)  # type: ignore[arg-type]
        if self.upgrade_insecure_requests:
            _merge_upgrade(headers, policy)


def _add(headers: HeaderList, name: str, value: str) -> None:
    # A WSGI list, or a Werkzeug Headers (whose add() is much cheaper than extend()).
    if isinstance(headers, Headers):
        headers.add(name, value)
    else:
        headers.append((name, value))


def _has_secure_attribute(cookie: str) -> bool:
    # The first part is name=value, which may itself contain "secure".
    return any(part.strip().lower() == "secure" for part in cookie.split(";")[1:])


def _mark_cookies_secure(headers: HeaderList) -> None:
    for index, (name, value) in enumerate(headers):
        if name.lower() == "set-cookie" and not _has_secure_attribute(value):
            headers[index] = (name, f"{value}; Secure")


def _merge_upgrade(headers: HeaderList, index: int) -> None:
    if index < 0:
        _add(headers, CSP_HEADER, UPGRADE_INSECURE_REQUESTS)
        return
    name, policy = headers[index]
    directives = [directive.strip() for directive in policy.split(";") if directive.strip()]
    if UPGRADE_INSECURE_REQUESTS not in (directive.lower() for directive in directives):
        headers[index] = (name, "; ".join([*directives, UPGRADE_INSECURE_REQUESTS]))
