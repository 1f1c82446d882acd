"""The app as deployed behind one TLS-terminating proxy (nginx, an AWS ALB, Heroku).

    gunicorn -c examples/deploy/gunicorn.conf.py --chdir examples/deploy app:app

Settings come from the environment through Flask's prefixed env vars, e.g.
FLASK_TRUSTED_HOSTS='["app.example.com"]' or FLASK_HTTPS_GUARD_REDIRECT_PORT=8443
(only when nginx's TLS port is not 443).
"""

from flask import Flask, request

from flask_https_guard import HTTPSGuard, exempt_https

app = Flask(__name__)
app.config.from_prefixed_env()
# One proxy (nginx) sits in front of gunicorn: believe its X-Forwarded-Proto
# entry, and nothing a client puts to the left of it.
HTTPSGuard(app, trusted_proxies=1)


@app.get("/")
def index() -> str:
    return "Hello over HTTPS.\n"


@app.post("/echo")
def echo() -> str:
    return f"received over {request.scheme}: {request.get_data(as_text=True)}"


@app.get("/health")
@exempt_https
def health() -> str:
    # Load balancers probe over plain HTTP.
    return "ok\n"
