"""Global mode: every view is served over HTTPS only.

flask --app examples/global_mode.py run
curl -i http://127.0.0.1:5000/orders?page=2     # 302 to https://127.0.0.1:5000/orders?page=2
curl -i -X POST http://127.0.0.1:5000/orders    # 307: the POST stays a POST
"""

from flask import Flask, request

from flask_https_guard import HTTPSGuard

app = Flask(__name__)
HTTPSGuard(app)


@app.get("/")
def index() -> str:
    return "Served over HTTPS only.\n"


@app.route("/orders", methods=["GET", "POST"])
def orders() -> str:
    if request.method == "POST":
        return f"order received: {request.get_data(as_text=True)}\n"
    return f"orders, page {request.args.get('page', '1')}\n"
