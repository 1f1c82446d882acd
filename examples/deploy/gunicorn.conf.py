"""Gunicorn settings for running examples/deploy/app.py behind nginx."""

bind = "127.0.0.1:8000"
workers = 4

# Let the guard, not gunicorn, decide the scheme. By default gunicorn turns
# X-Forwarded-Proto, X-Forwarded-Ssl and X-Forwarded-Protocol from
# 127.0.0.1 into wsgi.url_scheme. nginx overwrites X-Forwarded-Proto, but
# passes the other two on from the client untouched, so a client could send
# "X-Forwarded-Ssl: on" over plain HTTP and be treated as secure. With this
# empty, gunicorn reports the scheme it actually spoke (http), and
# HTTPSGuard(trusted_proxies=1) reads nginx's X-Forwarded-Proto entry.
secure_scheme_headers = {}
