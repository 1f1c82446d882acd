"""The response headers a guard adds on secure responses.

Both :class:`~flask_https_guard.HTTPSGuard` and the Flask-SSLify drop-in apply
HSTS through this module, so the header is spelled, validated and applied
in one place. The guard applies it to the WSGI header list as the response
starts (:class:`SecureHeaderRules`), so every secure response gets it, error
pages raised anywhere in Flask included.

>>> policy = HSTSPolicy(max_age=63072000, include_subdomains=True, preload=True)
>>> str(policy)
'max-age=63072000; includeSubDomains; preload'
"""

from __future__ import annotations

from typing import Optional

from werkzeug.datastructures import Headers

HSTS_HEADER = "Strict-Transport-Security"
_HSTS_LOWER = HSTS_HEADER.lower()
CSP_HEADER = "Content-Security-Policy"
UPGRADE_INSECURE_REQUESTS = "upgrade-insecure-requests"

#: The smallest max-age the HSTS preload list accepts (hstspreload.org).
PRELOAD_MIN_MAX_AGE = 31536000


class HSTSPolicy:
    """An HTTP Strict Transport Security policy (RFC 6797).

    ``str(policy)`` is the header value. The constructor refuses policies a
    browser or the preload list would reject, so a bad policy fails when the
    app starts rather than silently in the field:

    - ``max_age`` must be a whole number of seconds, 0 or more (0 tells the
      browser to forget the host);
    - ``preload`` requires ``include_subdomains`` and a ``max_age`` of at
      least one year, the preload list's rules.

    >>> str(HSTSPolicy())
    'max-age=31536000'
    """

    __slots__ = ("include_subdomains", "max_age", "preload", "value")

    def __init__(
        self,
        max_age: int = 31536000,
        include_subdomains: bool = False,
        preload: bool = False,
    ) -> None:
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            raise TypeError(f"max_age must be a whole number of seconds, got {max_age!r}")
        if max_age < 0:
            raise ValueError(f"max_age must be 0 or more seconds, got {max_age}")
        if preload and not include_subdomains:
            raise ValueError(
                "preload=True requires include_subdomains=True: the HSTS preload"
                " list only accepts policies that cover every subdomain"
            )
        if preload and max_age < PRELOAD_MIN_MAX_AGE:
            raise ValueError(
                f"preload=True requires max_age of at least {PRELOAD_MIN_MAX_AGE}"
                f" (one year), the preload list's minimum; got {max_age}"
            )
        self.max_age = max_age
        self.include_subdomains = include_subdomains
        self.preload = preload
        # Built once: the value is sent on every secure response.
        directives = [f"max-age={max_age}"]
        if include_subdomains:
            directives.append("includeSubDomains")
        if preload:
            directives.append("preload")
        self.value = "; ".join(directives)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return (
            f"HSTSPolicy(max_age={self.max_age},"
            f" include_subdomains={self.include_subdomains},"
            f" preload={self.preload})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HSTSPolicy) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def apply(self, headers: Headers) -> None:
        """Add the header unless the view already set its own."""
        apply_secure_headers(headers, self, secure_cookies=False)


def mark_cookies_secure(headers: Headers) -> None:
    """Add the ``Secure`` attribute to every ``Set-Cookie`` that lacks it.

    For secure responses only: a cookie set over HTTPS without ``Secure``
    would be sent back by the browser over plain HTTP, in clear.
    """
    apply_secure_headers(headers, None, secure_cookies=True)


def apply_secure_headers(
    headers: Headers, hsts: Optional[HSTSPolicy], secure_cookies: bool
) -> None:
    """HSTS (unless already set) and Secure cookies, in one pass over the headers.

    This runs on every secure response, so it reads the header list once and
    avoids Werkzeug's exception-based lookups (``in``, ``setdefault``).
    """
    hsts_missing = hsts is not None
    insecure_cookie = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == _HSTS_LOWER:
            hsts_missing = False
        elif secure_cookies and lowered == "set-cookie" and not _has_secure_attribute(value):
            insecure_cookie = True
    if hsts_missing:
        headers.add(HSTS_HEADER, hsts.value)  # type: ignore[union-attr]
    if insecure_cookie:
        headers.setlist(
            "Set-Cookie",
            [
                cookie if _has_secure_attribute(cookie) else f"{cookie}; Secure"
                for cookie in headers.getlist("Set-Cookie")
            ],
        )


def _has_secure_attribute(cookie: str) -> bool:
    # The first part is name=value, which may itself contain "secure".
    attributes = cookie.split(";")[1:]
    return any(attribute.strip().lower() == "secure" for attribute in attributes)


class SecureHeaderRules:
    """What to add to a secure response's WSGI header list, resolved once.

    ``apply`` runs on every secure response, so it makes one pass over the
    list and touches it only for what is missing:

    - ``Strict-Transport-Security``, unless the app already set one;
    - ``Secure`` on every ``Set-Cookie`` that lacks it;
    - ``upgrade-insecure-requests`` merged into the Content-Security-Policy
      the app (or another extension) set, or as a header of its own.
    """

    __slots__ = ("hsts_value", "secure_cookies", "upgrade_insecure_requests")

    def __init__(
        self, hsts: Optional[HSTSPolicy], secure_cookies: bool, upgrade_insecure_requests: bool
    ) -> None:
        self.hsts_value = hsts.value if hsts is not None else None
        self.secure_cookies = secure_cookies
        self.upgrade_insecure_requests = upgrade_insecure_requests

    def __bool__(self) -> bool:
        return self.hsts_value is not None or self.secure_cookies or self.upgrade_insecure_requests

    def apply(self, headers: list[tuple[str, str]]) -> None:
        """Add what is missing to ``headers``, in place."""
        hsts_missing = self.hsts_value is not None
        has_cookies = has_policy = False
        # Most responses carry neither cookies nor a policy: one cheap pass,
        # and the list is only rewritten when there is something to change.
        for name, _ in headers:
            lowered = name.lower()
            if lowered == _HSTS_LOWER:
                hsts_missing = False
            elif lowered == "set-cookie":
                has_cookies = True
            elif lowered == "content-security-policy":
                has_policy = True
        if hsts_missing:
            headers.append((HSTS_HEADER, self.hsts_value))  # type: ignore[arg-type]
        if has_cookies and self.secure_cookies:
            _mark_wsgi_cookies_secure(headers)
        if self.upgrade_insecure_requests:
            _merge_upgrade_directive(headers, has_policy)


def _mark_wsgi_cookies_secure(headers: list[tuple[str, str]]) -> None:
    for index, (name, value) in enumerate(headers):
        if name.lower() == "set-cookie" and not _has_secure_attribute(value):
            headers[index] = (name, f"{value}; Secure")


def _merge_upgrade_directive(headers: list[tuple[str, str]], has_policy: bool) -> None:
    if not has_policy:
        headers.append((CSP_HEADER, UPGRADE_INSECURE_REQUESTS))
        return
    csp_index = next(
        index
        for index, (name, _) in enumerate(headers)
        if name.lower() == "content-security-policy"
    )
    name, policy = headers[csp_index]
    directives = [directive.strip() for directive in policy.split(";")]
    if any(directive.lower() == UPGRADE_INSECURE_REQUESTS for directive in directives):
        return
    kept = "; ".join(directive for directive in directives if directive)
    headers[csp_index] = (
        name,
        f"{kept}; {UPGRADE_INSECURE_REQUESTS}" if kept else UPGRADE_INSECURE_REQUESTS,
    )
