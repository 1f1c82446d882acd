"""The guard's options: their defaults, their config keys, and their checks.

Every option is a keyword of :class:`~flask_https_guard.HTTPSGuard` and a
config key ``HTTPS_GUARD_<NAME>``. An explicit argument wins over the config,
the config over the default. Everything is validated here, once, when the
guard is set up, so a typo or a wrong type fails at ``init_app`` with a
message naming the option, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .headers import HSTSPolicy

CONFIG_PREFIX = "HTTPS_GUARD_"

# A host name (letters, digits, dots, hyphens, underscores; IDN in its
# xn-- form) or a bracketed IPv6 literal. No port: that is redirect_port.
_REDIRECT_HOST_PATTERN = re.compile(
    r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\]",
    re.ASCII | re.IGNORECASE,
)
_FORBIDDEN_IN_SKIP = re.compile(r"[?#\s\x00-\x1f\x7f]")


def _describe(name: str, source: str) -> str:
    if source == "config":
        return f"config {CONFIG_PREFIX}{name.upper()}"
    return f"option {name}"


def _check_bool(name: str, source: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{_describe(name, source)} must be True or False, got {value!r}")
    return value


def _check_optional_bool(name: str, source: str, value: Any) -> Optional[bool]:
    if value is not None and not isinstance(value, bool):
        raise TypeError(
            f"{_describe(name, source)} must be None (active unless app.debug),"
            f" True or False, got {value!r}"
        )
    return value


def _check_count(name: str, source: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{_describe(name, source)} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{_describe(name, source)} must be 0 or more, got {value}")
    return value


def _check_port(name: str, source: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{_describe(name, source)} must be None or a port number"
            f" from 1 to 65535, got {value!r}"
        )
    if not 1 <= value <= 65535:
        raise ValueError(
            f"{_describe(name, source)} must be a port number from 1 to 65535, got {value}"
        )
    return value


def _check_host(name: str, source: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{_describe(name, source)} must be None or a host name, got {value!r}")
    if not _REDIRECT_HOST_PATTERN.fullmatch(value):
        raise ValueError(
            f"{_describe(name, source)} must be a bare host name such as"
            f" 'www.example.com' or '[2001:db8::1]' (no scheme, path or port;"
            f" set the port with redirect_port), got {value!r}"
        )
    return value.lower()


def _check_skips(name: str, source: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(
            f"{_describe(name, source)} must be None or a list of path prefixes"
            f" such as ['health'], got {value!r}"
        )
    prefixes = []
    for entry in value:
        if not isinstance(entry, str):
            raise TypeError(
                f"{_describe(name, source)} must hold path prefixes as strings, got {entry!r}"
            )
        segments = entry.strip("/")
        if not segments:
            raise ValueError(
                f"{_describe(name, source)} has {entry!r}, which would skip every"
                " path; use enabled=False to switch the guard off"
            )
        if _FORBIDDEN_IN_SKIP.search(segments):
            raise ValueError(
                f"{_describe(name, source)} has {entry!r}: a path prefix cannot"
                " hold '?', '#', spaces or control characters"
            )
        prefixes.append("/" + segments)
    return tuple(prefixes)


#: Headers beyond X-Forwarded-For/-Proto that trusted_proxies may also trust.
PROXY_HEADER_NAMES = ("x_host", "x_port", "x_prefix", "forwarded")
_HEADER_NAME_PATTERN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def _check_proxy_headers(name: str, source: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        # From the environment (FLASK_HTTPS_GUARD_TRUSTED_PROXY_HEADERS=x_host,x_port).
        value = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(
            f"{_describe(name, source)} must be a list of header names from"
            f" {', '.join(PROXY_HEADER_NAMES)}, got {value!r}"
        )
    for entry in value:
        if entry not in PROXY_HEADER_NAMES:
            raise ValueError(
                f"{_describe(name, source)} has {entry!r}; allowed are:"
                f" {', '.join(PROXY_HEADER_NAMES)}"
            )
    return tuple(sorted(set(value), key=PROXY_HEADER_NAMES.index))


@dataclass(frozen=True)
class HTTPSHeader:
    """A platform's own header that says a request arrived over https.

    ``value`` None means the header's presence is enough (``X-ARR-SSL``).
    """

    name: str
    value: Optional[str]

    @property
    def environ_key(self) -> str:
        """The WSGI environ key the server stores the header under."""
        return "HTTP_" + self.name.upper().replace("-", "_")

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}: {self.value}"


def _check_https_header(name: str, source: str, value: Any) -> Optional[HTTPSHeader]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(
            f"{_describe(name, source)} must be None or a string such as"
            f" 'X-Forwarded-Ssl: on' or 'X-ARR-SSL', got {value!r}"
        )
    header, colon, expected = value.partition(":")
    header = header.strip()
    if not _HEADER_NAME_PATTERN.fullmatch(header) or (colon and not expected.strip()):
        raise ValueError(
            f"{_describe(name, source)} must be a header name, optionally followed"
            f" by ': <value that means https>', such as 'X-Forwarded-Ssl: on'"
            f" or 'X-ARR-SSL'; got {value!r}"
        )
    return HTTPSHeader(header, expected.strip() if colon else None)


@dataclass(frozen=True)
class _Option:
    default: Any
    check: Callable[[str, str, Any], Any]


_OPTIONS: dict[str, _Option] = {
    "global_mode": _Option(True, _check_bool),
    "permanent": _Option(False, _check_bool),
    "skips": _Option(None, _check_skips),
    "hsts": _Option(True, _check_bool),
    "hsts_max_age": _Option(31536000, _check_count),
    "hsts_include_subdomains": _Option(False, _check_bool),
    "hsts_preload": _Option(False, _check_bool),
    "trusted_proxies": _Option(0, _check_count),
    "trusted_proxy_headers": _Option(None, _check_proxy_headers),
    "https_header": _Option(None, _check_https_header),
    "redirect_host": _Option(None, _check_host),
    "redirect_port": _Option(None, _check_port),
    "reject_insecure_writes": _Option(False, _check_bool),
    "secure_cookies": _Option(True, _check_bool),
    "enabled": _Option(None, _check_optional_bool),
    "report_only": _Option(False, _check_bool),
    "upgrade_insecure_requests": _Option(False, _check_bool),
}

OPTION_NAMES = tuple(_OPTIONS)


@dataclass(frozen=True)
class GuardOptions:
    """The options of one guarded app, validated and in their final form."""

    global_mode: bool
    permanent: bool
    skips: tuple[str, ...]
    hsts: bool
    hsts_max_age: int
    hsts_include_subdomains: bool
    hsts_preload: bool
    trusted_proxies: int
    trusted_proxy_headers: tuple[str, ...]
    https_header: Optional[HTTPSHeader]
    redirect_host: Optional[str]
    redirect_port: Optional[int]
    reject_insecure_writes: bool
    secure_cookies: bool
    enabled: Optional[bool]
    report_only: bool
    upgrade_insecure_requests: bool
    #: Where each option's value came from: "argument", "config" or "default".
    sources: Mapping[str, str]

    def hsts_policy(self) -> Optional[HSTSPolicy]:
        """The HSTS policy to send, or None when ``hsts=False``."""
        if not self.hsts:
            return None
        return HSTSPolicy(self.hsts_max_age, self.hsts_include_subdomains, self.hsts_preload)


def check_option_names(names: Any) -> None:
    """Raise TypeError for a keyword that is not an option of the guard."""
    unknown = sorted(set(names) - set(_OPTIONS))
    if unknown:
        raise TypeError(
            f"unknown option {unknown[0]!r} for HTTPSGuard;"
            f" the options are: {', '.join(OPTION_NAMES)}"
        )


def resolve_options(explicit: Mapping[str, Any], config: Mapping[str, Any]) -> GuardOptions:
    """Merge arguments, an app's config and the defaults into checked options.

    Raises TypeError or ValueError naming the option (or config key), the
    value and what is allowed.
    """
    check_option_names(explicit)
    _check_config_names(config)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, option in _OPTIONS.items():
        key = CONFIG_PREFIX + name.upper()
        if name in explicit:
            source, raw = "argument", explicit[name]
        elif key in config:
            source, raw = "config", config[key]
        else:
            source, raw = "default", option.default
        values[name] = option.check(name, source, raw)
        sources[name] = source
    options = GuardOptions(**values, sources=sources)
    _check_hsts(options)
    _check_proxy_trust(options)
    return options


def _check_config_names(config: Mapping[str, Any]) -> None:
    known = {CONFIG_PREFIX + name.upper() for name in _OPTIONS}
    for key in config:
        if isinstance(key, str) and key.startswith(CONFIG_PREFIX) and key not in known:
            raise ValueError(
                f"unknown config key {key}; the guard's keys are: {', '.join(sorted(known))}"
            )


def _check_hsts(options: GuardOptions) -> None:
    # HSTSPolicy states the preload list's rules; name our options instead of
    # its parameters so the user knows which setting to change.
    try:
        HSTSPolicy(
            options.hsts_max_age,
            options.hsts_include_subdomains,
            options.hsts_preload,
        )
    except ValueError as error:
        raise ValueError(
            "invalid HSTS options (hsts_max_age="
            f"{options.hsts_max_age}, hsts_include_subdomains="
            f"{options.hsts_include_subdomains}, hsts_preload="
            f"{options.hsts_preload}): {error}"
        ) from None


def _check_proxy_trust(options: GuardOptions) -> None:
    # Headers are believed only from the proxies the user counted: without a
    # trusted proxy, any client could send them.
    if options.trusted_proxies:
        return
    if options.trusted_proxy_headers:
        raise ValueError(
            f"trusted_proxy_headers={list(options.trusted_proxy_headers)!r} needs"
            " trusted_proxies of 1 or more: the number of entries your proxies"
            " add to each header"
        )
    if options.https_header is not None:
        raise ValueError(
            f"https_header={str(options.https_header)!r} needs trusted_proxies of"
            " 1 or more: without a trusted proxy in front, any client could send it"
        )
