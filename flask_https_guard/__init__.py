"""Keep a Flask app on HTTPS: redirects, HSTS, per-view marks, proxy trust.

>>> from flask import Flask
>>> from flask_https_guard import HTTPSGuard
>>> app = Flask(__name__)
>>> guard = HTTPSGuard(app)
"""

from .decorators import exempt_https, require_https
from .extension import HTTPSGuard
from .headers import HSTSPolicy
from .policy import Decision
from .signals import insecure_request
from .sslify import SSLify

__version__ = "0.1.0"

__all__ = [
    "Decision",
    "HSTSPolicy",
    "HTTPSGuard",
    "SSLify",
    "__version__",
    "exempt_https",
    "insecure_request",
    "require_https",
]
