"""Global mode with a health check that load balancers call over plain HTTP.

    flask --app examples/health_check.py run
    curl -i http://127.0.0.1:5000/health      # 200 over http, no redirect
    curl -i http://127.0.0.1:5000/            # 302 to https

Behind one TLS-terminating proxy (nginx, an AWS ALB, Heroku's router), also
set HTTPS_GUARD_TRUSTED_PROXIES=1 so that the proxy's X-Forwarded-Proto is
believed; see "Deploying behind a proxy" in the README.
"""

import os

from flask import Flask, request

from flask_https_guard import HTTPSGuard, exempt_https

app = Flask(__name__)
app.config["HTTPS_GUARD_TRUSTED_PROXIES"] = int(os.environ.get("HTTPS_GUARD_TRUSTED_PROXIES", "0"))
HTTPSGuard(app)


@app.get("/health")
@exempt_https
def health() -> str:
    return "ok\n"


@app.get("/")
def index() -> str:
    return "Served over HTTPS only.\n"


@app.post("/echo")
def echo() -> str:
    return request.get_data(as_text=True)
