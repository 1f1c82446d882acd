"""The guard's options, declared once: the keyword-only parameters of ``HTTPSGuard``.

Config keys (``HTTPS_GUARD_<NAME>``), defaults and checks derive from the
signature; a wrong value fails at ``init_app`` naming the option as written.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import re
from collections.abc import Mapping
from typing import Any, Callable, Optional

from .headers import HSTSPolicy, hsts_error
from .location import split_host

CONFIG_PREFIX = "HTTPS_GUARD_"
logger = logging.getLogger("flask_https_guard")

#: Old option names still accepted, with a warning, and what they became.
RENAMED = {"reject_insecure_writes": "refuse_insecure_writes"}

_FORBIDDEN_IN_SKIP = re.compile(r"[?#\s\x00-\x1f\x7f]")
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
#: Headers beyond X-Forwarded-For/-Proto that ``trusted_proxies`` may also trust.
PROXY_HEADER_NAMES = ("x_host", "x_port", "x_prefix", "forwarded")


def _bool(what: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, got {value!r}")
    return value


def _optional_bool(what: str, value: Any) -> Optional[bool]:
    if value is not None and not isinstance(value, bool):
        raise TypeError(
            f"{what} must be None (active unless app.debug), True or False, got {value!r}"
        )
    return value


def _count(what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must be 0 or more, got {value}")
    return value


def _port(what: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be None or a port number from 1 to 65535, got {value!r}")
    if not 1 <= value <= 65535:
        raise ValueError(f"{what} must be a port number from 1 to 65535, got {value}")
    return value


def _host(what: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be None or a host name, got {value!r}")
    split = split_host(value)
    if split is None or split[1] is not None or value.endswith("."):
        raise ValueError(
            f"{what} must be a bare host name such as 'www.example.com' or"
            f" '[2001:db8::1]' (no scheme, path or port; set the port with"
            f" redirect_port), got {value!r}"
        )
    return value.lower()


def _skips(what: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(
            f"{what} must be None or a list of path prefixes such as ['health'], got {value!r}"
        )
    prefixes = []
    for entry in value:
        if not isinstance(entry, str):
            raise TypeError(f"{what} must hold path prefixes as strings, got {entry!r}")
        segments = entry.strip("/")
        if not segments:
            raise ValueError(
                f"{what} has {entry!r}, which would skip every path;"
                " use enabled=False to switch the guard off"
            )
        if _FORBIDDEN_IN_SKIP.search(segments):
            raise ValueError(
                f"{what} has {entry!r}: a path prefix cannot hold '?', '#',"
                " spaces or control characters"
            )
        prefixes.append("/" + segments)
    return tuple(prefixes)


def _proxy_headers(what: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # from the environment: "x_host,x_port"
        value = [entry.strip() for entry in value.split(",") if entry.strip()]
    allowed = ", ".join(PROXY_HEADER_NAMES)
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(f"{what} must be a list of header names from {allowed}, got {value!r}")
    for entry in value:
        if entry not in PROXY_HEADER_NAMES:
            raise ValueError(f"{what} has {entry!r}; allowed are: {allowed}")
    return tuple(sorted(set(value), key=PROXY_HEADER_NAMES.index))


def _https_header(what: str, value: Any) -> Optional[tuple[str, Optional[str]]]:
    """``"X-Forwarded-Ssl: on"`` as ``("X-Forwarded-Ssl", "on")``; a bare name: presence."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be None or a string such as 'X-Forwarded-Ssl: on'")
    name, colon, expected = (part.strip() for part in value.partition(":"))
    if not _HEADER_NAME.fullmatch(name) or (colon and not expected):
        raise ValueError(
            f"{what} must be a header name, optionally followed by ': <value that"
            f" means https>', such as 'X-Forwarded-Ssl: on' or 'X-ARR-SSL'; got {value!r}"
        )
    return name, expected if colon else None


def _predicate(what: str, value: Any) -> Optional[Callable[..., bool]]:
    if value is not None and not callable(value):
        raise TypeError(f"{what} must be None or a callable taking the request, got {value!r}")
    return value  # type: ignore[no-any-return]


_CHECK_BY_ANNOTATION: dict[str, Callable[[str, Any], Any]] = {
    "bool": _bool,
    "Optional[bool]": _optional_bool,
    "int": _count,
}
_CHECK_BY_NAME: dict[str, Callable[[str, Any], Any]] = {
    "skips": _skips,
    "trusted_proxy_headers": _proxy_headers,
    "https_header": _https_header,
    "redirect_host": _host,
    "canonical_host": _host,
    "redirect_port": _port,
    "exempt_when": _predicate,
}


class GuardOptions:
    """One app's options, checked and in their final form, as read-only attributes.

    ``sources`` says where each came from (``"argument"``, ``"config"`` or
    ``"default"``); ``labels`` how the user wrote it, for messages.
    """

    def __init__(
        self, values: dict[str, Any], sources: dict[str, str], labels: dict[str, str]
    ) -> None:
        self.__dict__.update(values, sources=sources, labels=labels)

    def __getattr__(self, name: str) -> Any:  # for mypy: every option is an attribute
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("options are resolved once, at init_app, and never change")

    def hsts_policy(self) -> Optional[HSTSPolicy]:
        """The HSTS policy to send, or None when ``hsts=False``."""
        if not self.hsts:
            return None
        return HSTSPolicy(self.hsts_max_age, self.hsts_include_subdomains, self.hsts_preload)


class Declaration:
    """The options a signature declares: names, defaults and checks, in order."""

    def __init__(self, function: Callable[..., Any], exclude: tuple[str, ...] = ()) -> None:
        self.parameters = {
            name: parameter
            for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in exclude
        }
        self.checks = {name: self._check_for(p) for name, p in self.parameters.items()}

    @staticmethod
    def _check_for(parameter: inspect.Parameter) -> Callable[[str, Any], Any]:
        annotation = str(parameter.annotation)
        check = _CHECK_BY_NAME.get(parameter.name) or _CHECK_BY_ANNOTATION.get(annotation)
        if check is None:  # a new option without a check fails at import, in the tests
            raise TypeError(f"no check for option {parameter.name}: {annotation}")
        return check

    def given(self, arguments: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
        """What the user set: option name -> (label as written, value, source).

        Arguments win over config keys. An unknown name fails, suggesting the
        likeliest one meant; an old name is accepted with a warning.
        """
        given: dict[str, Any] = {}
        for source, items in (("config", config.items()), ("argument", arguments.items())):
            for written, value in items:
                name = written
                if source == "config":
                    if not isinstance(written, str) or not written.startswith(CONFIG_PREFIX):
                        continue
                    name = written[len(CONFIG_PREFIX) :].lower()
                if name in RENAMED:
                    name = RENAMED[name]
                    warn_renamed(
                        written, CONFIG_PREFIX + name.upper() if source == "config" else name
                    )
                if name not in self.parameters:
                    raise _unknown(written, source, self.parameters)
                if given.get(name, (None, None, None))[2] == source:
                    raise TypeError(f"{given[name][0]} and {written} are one option; set only one")
                given[name] = (
                    f"{'config' if source == 'config' else 'option'} {written}",
                    value,
                    source,
                )
        return given

    def resolve(self, arguments: Mapping[str, Any], config: Mapping[str, Any]) -> GuardOptions:
        """Merge arguments, an app's config and the defaults into checked options."""
        given = self.given(arguments, config)
        values, sources, labels = {}, {}, {}
        for name, parameter in self.parameters.items():
            labels[name], raw, sources[name] = given.get(
                name, (f"option {name}", parameter.default, "default")
            )
            values[name] = self.checks[name](labels[name], raw)
        options = GuardOptions(values, sources, labels)
        _check_combinations(options)
        return options


def _unknown(written: str, source: str, parameters: Mapping[str, Any]) -> Exception:
    known = [CONFIG_PREFIX + name.upper() if source == "config" else name for name in parameters]
    close = difflib.get_close_matches(written, known, n=1)
    meant = f"; did you mean {close[0]}?" if close else ""
    what = "config key" if source == "config" else "option"
    message = f"unknown {what} {written!r} for HTTPSGuard{meant} Known: {', '.join(known)}"
    return ValueError(message) if source == "config" else TypeError(message)


_warned_renames: set[str] = set()


def warn_renamed(old: str, new: str) -> None:
    """Log once per name that ``old`` is deprecated in favour of ``new``."""
    if old not in _warned_renames:
        _warned_renames.add(old)
        logger.warning("%s is deprecated; it is now called %s (logged once)", old, new)


def _check_combinations(options: GuardOptions) -> None:
    labels = options.labels
    error = hsts_error(
        options.hsts_max_age,
        options.hsts_include_subdomains,
        options.hsts_preload,
        max_age=labels["hsts_max_age"],
        include_subdomains=labels["hsts_include_subdomains"],
        preload=labels["hsts_preload"],
    )
    if error is not None:
        raise error
    if not options.trusted_proxies:
        # Without a counted proxy in front, any client could send these headers.
        for name in ("trusted_proxy_headers", "https_header"):
            if getattr(options, name):
                raise ValueError(
                    f"{labels[name]} needs trusted_proxies of 1 or more:"
                    " the number of entries your proxies add to each header"
                )
    if options.canonical_host and options.redirect_host:
        raise ValueError(
            f"{labels['canonical_host']} and {labels['redirect_host']} cannot be combined:"
            " redirect_host sends plain HTTP straight to another host, skipping the"
            " same-host hop that canonical_host keeps for HSTS preload"
        )
