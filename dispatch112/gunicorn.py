"""gunicorn settings for the HTTP processes (pages, API, static files) of the production
layout: `gunicorn -c python:dispatch112.gunicorn dispatch112.wsgi`. Websockets (/ws/) stay
on Daphne; the reverse proxy splits the two (deploy/nginx.conf).

Why not Daphne for HTTP too: under ASGI Django runs synchronous views one at a time per
process (on its single sync thread), and Daphne's HTTP path costs several times a WSGI
worker's per request (docs/ARCHITECTURE.md, "Process layout", has the measurements)."""

import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
# Two per core: while one waits on PostgreSQL, the other has the core.
workers = int(os.environ.get("WEB_WORKERS", 2 * (os.cpu_count() or 1)))
worker_class = "sync"  # every view is synchronous; nginx buffers slow clients
# A request past this is killed and logged; the database's own timeout (DB_TIMEOUT) is 5 s.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
accesslog = "-" if os.environ.get("WEB_ACCESS_LOG", "false").lower() == "true" else None
errorlog = "-"
# gunicorn ≥ 25's control socket (one per user's home by default) is not used: several
# servers on one machine (tests, benchmarks) would fight over it.
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Each worker pays its one-time costs before accepting a request (dispatch112.warmup)."""
    from dispatch112.warmup import warm_up

    warm_up()
