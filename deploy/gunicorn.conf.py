"""gunicorn settings for production. From the repository root:

    .venv/bin/gunicorn -c deploy/gunicorn.conf.py 'fieldapp:create_app()'

Threaded workers (gthread) keep a connection open between requests, so a phone on a slow,
high-latency link pays one TCP (and TLS) handshake for the whole app instead of one per
file; gunicorn's default sync workers close the connection after every answer. Idle
keep-alive connections wait in the worker's poller, not in a thread.

Every setting can be overridden on the command line (-w, -b, --threads, --keep-alive).
It lives here, not as ./gunicorn.conf.py, so that gunicorn runs that want their own
settings (the check-in burst benchmark's) do not pick it up by themselves.
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Seconds an idle connection stays open: longer than a tap-to-tap pause on a village link.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))
# Seconds a request may run before its worker is killed: the largest roster import a
# county can send (30,000 rows, domain/workbook.py) takes well under this; 30 s does not fit.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))


def on_starting(server):
    """Compress the static files once, in the master, before the workers start: they then
    read the copies from ASSET_CACHE_DIR instead of each compressing at a first visit."""
    from fieldapp import create_app
    from fieldapp.assets import assets, compress_all

    app = create_app()
    with app.app_context():
        files, _raw, packed, release = compress_all(assets())
    server.log.info("static files compressed: %d files, %d KB as br (release %s)",
                    files, packed // 1024, release)
