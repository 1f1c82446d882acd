"""The shared header module: HSTSPolicy and the Secure flag on cookies."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

import flask_https_guard
from flask_https_guard.headers import HSTSPolicy, SecureHeaders


@pytest.mark.parametrize(
    "arguments, value",
    [
        ({}, "max-age=31536000"),
        ({"max_age": 0}, "max-age=0"),
        ({"max_age": 600, "include_subdomains": True}, "max-age=600; includeSubDomains"),
        (
            {"max_age": 63072000, "include_subdomains": True, "preload": True},
            "max-age=63072000; includeSubDomains; preload",
        ),
    ],
)
def test_str_is_the_header_value(arguments, value):
    assert str(HSTSPolicy(**arguments)) == value


def test_negative_max_age_is_refused():
    with pytest.raises(ValueError, match="max_age must be 0 or more"):
        HSTSPolicy(max_age=-1)


@pytest.mark.parametrize("max_age", ["31536000", 1.5, True, None])
def test_max_age_must_be_a_whole_number(max_age):
    with pytest.raises(TypeError, match="max_age"):
        HSTSPolicy(max_age=max_age)


def test_preload_without_include_subdomains_is_refused():
    with pytest.raises(ValueError, match="preload=True requires include_subdomains=True"):
        HSTSPolicy(preload=True)


def test_preload_below_one_year_is_refused():
    with pytest.raises(ValueError, match="at least 31536000"):
        HSTSPolicy(max_age=86400, include_subdomains=True, preload=True)


def test_exported_at_the_top_level():
    assert flask_https_guard.HSTSPolicy is HSTSPolicy


def test_apply_keeps_a_header_already_set():
    headers = Headers({"Strict-Transport-Security": "max-age=60"})
    HSTSPolicy().apply(headers)
    assert headers.getlist("Strict-Transport-Security") == ["max-age=60"]


def test_secure_cookies_get_the_flag_once():
    headers = Headers()
    headers.add("Set-Cookie", "a=1; Path=/")
    headers.add("Set-Cookie", "b=2; Secure; HttpOnly")
    headers.add("Set-Cookie", "secure=yes")
    SecureHeaders(None, secure_cookies=True, upgrade_insecure_requests=False).apply(headers)
    assert headers.getlist("Set-Cookie") == [
        "a=1; Path=/; Secure",
        "b=2; Secure; HttpOnly",
        "secure=yes; Secure",
    ]
