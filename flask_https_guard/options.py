"""The guard's options, declared once: the keyword-only parameters of ``HTTPSGuard``.

Each parameter is an option; its config key is ``HTTPS_GUARD_<NAME>``, its
default the parameter's, its check chosen by its annotation (or, for the few
with a format of their own, by its name). An argument wins over the config,
the config over the default. Everything is checked once, at ``init_app``, and
a wrong value fails naming the option as the user wrote it.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import re
from collections.abc import Mapping
from typing import Any, Callable, Optional

from .headers import HSTSPolicy, hsts_problem

CONFIG_PREFIX = "HTTPS_GUARD_"
logger = logging.getLogger("flask_https_guard")

#: Old option names still accepted, with a warning, and what they became.
RENAMED = {"reject_insecure_writes": "refuse_insecure_writes"}

# A bare host name (IDN in its xn-- form) or a bracketed IPv6 literal.
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\]", re.ASCII | re.I)
_FORBIDDEN_IN_SKIP = re.compile(r"[?#\s\x00-\x1f\x7f]")
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
#: Headers beyond X-Forwarded-For/-Proto that ``trusted_proxies`` may also trust.
PROXY_HEADER_NAMES = ("x_host", "x_port", "x_prefix", "forwarded")


def label(name: str, source: str) -> str:
    """The option as the user wrote it: ``option skips`` or ``config HTTPS_GUARD_SKIPS``."""
    return f"config {CONFIG_PREFIX}{name.upper()}" if source == "config" else f"option {name}"


def _bool(what: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, got {value!r}")
    return value


def _optional_bool(what: str, value: Any) -> Optional[bool]:
    if value is not None and not isinstance(value, bool):
        raise TypeError(
            f"{what} must be None (active unless app.debug), True or False, got {value!r}"
        )
    return value  # type: ignore[no-any-return]


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
    if not _HOST_NAME.fullmatch(value):
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
    """One app's options, checked, in their final form, as attributes.

    ``sources`` says where each came from: ``"argument"``, ``"config"`` or
    ``"default"``.
    """

    def __init__(self, values: dict[str, Any], sources: dict[str, str]) -> None:
        self.__dict__.update(values, sources=sources)

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
        check = _CHECK_BY_NAME.get(parameter.name) or _CHECK_BY_ANNOTATION.get(
            str(parameter.annotation)
        )
        if check is None:  # a new option without a check: fail at import, in the tests
            raise TypeError(f"no check for option {parameter.name}: {parameter.annotation}")
        return check

    def check_names(self, names: Any, prefix: str = "") -> None:
        """TypeError for an unknown option (or, with ``prefix``, config key), with the likeliest meant."""
        names_known = [*self.parameters, *RENAMED]
        known = [prefix + (name.upper() if prefix else name) for name in names_known]
        for name in names:
            if name not in known and (not prefix or name.startswith(prefix)):
                close = difflib.get_close_matches(name, known, n=1)
                meant = f"; did you mean {close[0]}?" if close else ""
                what = "config key" if prefix else "option"
                raise (ValueError if prefix else TypeError)(
                    f"unknown {what} {name!r} for HTTPSGuard{meant} Known: {', '.join(known)}"
                )

    def config_key(self, name: str) -> str:
        return CONFIG_PREFIX + name.upper()

    def resolve(self, arguments: Mapping[str, Any], config: Mapping[str, Any]) -> GuardOptions:
        """Merge arguments, an app's config and the defaults into checked options."""
        config = self._renamed_config(config)
        self.check_names([key for key in config if isinstance(key, str)], CONFIG_PREFIX)
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        old_names = {new: old for old, new in RENAMED.items()}
        for name, parameter in self.parameters.items():
            key = self.config_key(name)
            if name in arguments:
                source, raw = "argument", arguments[name]
            elif old_names.get(name) in arguments:
                warn_renamed(old_names[name], name)
                name_written = old_names[name]
                values[name] = self.checks[name](label(name_written, "argument"), arguments[name_written])
                sources[name] = "argument"
                continue
            elif key in config:
                source, raw = "config", config[key]
            else:
                source, raw = "default", parameter.default
            values[name] = self.checks[name](label(name, source), raw)
            sources[name] = source
        options = GuardOptions(values, sources)
        _check_combinations(options)
        return options

    def _renamed_config(self, config: Mapping[str, Any]) -> Mapping[str, Any]:
        for old, new in RENAMED.items():
            old_key, new_key = self.config_key(old), self.config_key(new)
            if old_key in config:
                warn_renamed(old_key, new_key)
                renamed = {key: value for key, value in config.items() if key != old_key}
                config = {new_key: config[old_key], **renamed}
        return config


_warned_renames: set[str] = set()


def warn_renamed(old: str, new: str) -> None:
    """Log once per name that ``old`` is deprecated in favour of ``new``."""
    if old not in _warned_renames:
        _warned_renames.add(old)
        logger.warning("%s is deprecated; it is now called %s (logged once)", old, new)


def _check_combinations(options: GuardOptions) -> None:
    sources = options.sources
    problem = hsts_problem(options.hsts_max_age, options.hsts_include_subdomains, options.hsts_preload)
    if problem:
        raise ValueError(
            problem.format(
                max_age=label("hsts_max_age", sources["hsts_max_age"]),
                include_subdomains=label(
                    "hsts_include_subdomains", sources["hsts_include_subdomains"]
                ),
                preload=label("hsts_preload", sources["hsts_preload"]),
            )
        )
    if not options.trusted_proxies:
        # Without a counted proxy in front, any client could send these headers.
        for name in ("trusted_proxy_headers", "https_header"):
            if getattr(options, name):
                raise ValueError(
                    f"{label(name, sources[name])} needs trusted_proxies of 1 or more:"
                    " the number of entries your proxies add to each header"
                )
    if options.canonical_host and options.redirect_host:
        raise ValueError(
            f"{label('canonical_host', sources['canonical_host'])} and"
            f" {label('redirect_host', sources['redirect_host'])} cannot be combined:"
            " redirect_host sends plain HTTP straight to another host, skipping the"
            " same-host hop that canonical_host keeps for HSTS preload"
        )
