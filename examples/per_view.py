"""Per-view mode: only the views and blueprints marked @require_https.

A public site whose account pages and admin blueprint need HTTPS, while the
rest is still served over plain HTTP.

    flask --app examples/per_view.py run
    curl -i http://127.0.0.1:5000/            # 200 over http
    curl -i http://127.0.0.1:5000/account     # 302 to https
    curl -i http://127.0.0.1:5000/admin/users # 302 to https (the whole blueprint)
"""

from flask import Blueprint, Flask

from flask_https_guard import HTTPSGuard, require_https

app = Flask(__name__)
HTTPSGuard(app, global_mode=False)

admin = require_https(Blueprint("admin", __name__, url_prefix="/admin"))


@admin.get("/users")
def users() -> str:
    return "admin: users\n"


app.register_blueprint(admin)


@app.get("/")
def home() -> str:
    return "public home page, http is fine\n"


@app.get("/account")
@require_https
def account() -> str:
    return "your account (HTTPS only)\n"
