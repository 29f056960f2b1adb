"""Dispatch 112 settings: one module, read from the environment.

With no environment at all this is the *embedded default*: SQLite file, in-memory channel
layer, Celery tasks run in-process, and a secret key generated into ``var/`` on first run. It
is a real install (a small city's whole command centre), so DEBUG is off unless ``DEBUG=true``
is set, as the development targets of the Makefile do. Setting ``DATABASE_URL`` switches to
PostgreSQL (psycopg 3) and requires ``SECRET_KEY``; ``REDIS_URL`` switches the channel layer,
the cache and the Celery broker to Redis. Every knob is listed in README.md. (One module of
over 400 lines on purpose: every setting in one place, in the order Django reads them.)
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables already in the environment win over the file.
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE)

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
# Embedded mode: a demo or a small single-machine install, nothing to start but the server.
EMBEDDED = not DATABASE_URL

# Debug pages show settings and every URL pattern to whoever sends an odd request: only when
# asked for.
DEBUG = env.bool("DEBUG", default=False)
# Where the embedded mode keeps its state: the SQLite database and its own secret key.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and EMBEDDED:
    from dispatch112.secret import embedded_secret_key

    SECRET_KEY = embedded_secret_key(VAR_DIR / "secret_key")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set with DATABASE_URL.")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if EMBEDDED or DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's, so the dev server speaks ASGI.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "dispatch112",
    "agencies",
    "reports",
    "notifications",
    "units",
    "telephony",
    "interop",
    "performance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.locale.LocaleMiddleware",  # pages: Indonesian unless chosen; API: Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it turns a lockout flagged during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dispatch112.urls"
WSGI_APPLICATION = "dispatch112.wsgi.application"
ASGI_APPLICATION = "dispatch112.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agencies.context_processors.role",
                "dispatch112.navigation.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# How long one statement may run (or wait for a lock) before the request fails with a clear
# "database not answering" error: an operator must know within seconds that nothing was saved.
# It is also the whole wait for a connection when the database is away (below).
# manage.py sets 0 (no limit) for maintenance commands such as migrate.
DB_TIMEOUT = env.float("DB_TIMEOUT", default=5.0)

if DATABASE_URL:
    # A multi-host URL, postgres://user@db-1:5432,db-2:5432/dispatch112?target_session_attrs=
    # read-write, arrives as HOST "db-1,db-2" and PORT "5432,5432", which libpq takes as
    # they are: it tries each host in turn and keeps the first that accepts writes, so a
    # promoted standby takes over with no change here (docs/FAILOVER.md).
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    # Under ASGI, Django's persistent connections (CONN_MAX_AGE) are not safe to use; a
    # psycopg connection pool per process is.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # After a database restart the pooled connections are dead: the pool checks each one
    # before lending it, so the first request after recovery does not fail.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # One budget: a request waits at most DB_POOL_TIMEOUT (default DB_TIMEOUT) in all for a
    # connection. The pool's own threads do the connecting (never the request), each attempt
    # bounded per host by DB_CONNECT_TIMEOUT (libpq counts whole seconds): a host that does
    # not answer is given up in time for the next host of the list, within the budget.
    _pool_timeout = env.float("DB_POOL_TIMEOUT", default=DB_TIMEOUT or 10.0)
    _connect_timeout = env.int(
        "DB_CONNECT_TIMEOUT", default=max(1, int(_pool_timeout / 2) if DB_TIMEOUT else 10)
    )
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": _connect_timeout,
            "options": f"-c statement_timeout={int(DB_TIMEOUT * 1000)}",
            "pool": {
                "min_size": env.int("DB_POOL_MIN", default=1),
                "max_size": env.int("DB_POOL_MAX", default=10),
                "timeout": _pool_timeout,
            },
        }
    )
else:
    SQLITE_PATH = Path(env.str("SQLITE_PATH", default=str(VAR_DIR / "dispatch112.sqlite3")))
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # WAL lets dashboards read while an operator writes; IMMEDIATE takes the write
                # lock at BEGIN so two writers queue instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                # Seconds a writer waits for the write lock (0: a maintenance command).
                "timeout": DB_TIMEOUT or 60,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite cannot hold an index's INCLUDE columns; it keeps the key columns of
# reports.Assignment's statistics index, which is all it needs at a small city's volume.
SILENCED_SYSTEM_CHECKS = ["models.W040"] if EMBEDDED else []

# --- Redis: channel layer, cache, Celery broker ----------------------------------------------
# A group forgets a member this many seconds after it joined (channels' group_expiry): how
# long a crashed process's dashboards stay in the groups, each costing every publish a little.
# Live consumers re-join every quarter of it (notifications.consumers), so a wall screen that
# stays connected for days never silently leaves its groups.
CHANNEL_GROUP_EXPIRY = env.int("CHANNEL_GROUP_EXPIRY", default=2 * 3600)
# Everything this installation keeps in Redis (channel layer, caches, Celery's queues) is
# named under this prefix, so that installations sharing one Redis never hear each other:
# two centres on one server, or the test suite's parallel workers (pytest-xdist names each
# worker in PYTEST_XDIST_WORKER, and the servers a test starts inherit it).
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default=os.environ.get("PYTEST_XDIST_WORKER", ""))
# Redis through Sentinel (docs/FAILOVER.md): instead of REDIS_URL, REDIS_SENTINELS lists the
# sentinels ("host:port,host:port,host:port"), REDIS_SENTINEL_MASTER names the master they
# watch and REDIS_DB its database. The channel layer, the caches and Celery each ask the
# sentinels for the current master, so a replica the sentinels promote takes over.
REDIS_SENTINELS = env.str("REDIS_SENTINELS", default="")
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
REDIS_DB = env.int("REDIS_DB", default=0)
# Asking a sentinel is quick or that sentinel is gone: the next one is asked.
REDIS_SENTINEL_KWARGS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
# [(host, port), …]: what anything else that talks to Redis itself (a pub/sub lane) hands to
# redis-py's Sentinel(…).master_for(REDIS_SENTINEL_MASTER, db=REDIS_DB); empty without them.
REDIS_SENTINEL_HOSTS: list[tuple[str, int]] = []
if REDIS_SENTINELS:
    from dispatch112.redis_sentinel import parse_sentinels

    if REDIS_URL:
        raise ImproperlyConfigured("Set REDIS_URL or REDIS_SENTINELS, not both.")
    REDIS_SENTINEL_HOSTS = parse_sentinels(REDIS_SENTINELS)
    # Not a URL redis-py opens: what says "Redis is in use" here and in `manage.py serve`,
    # and the LOCATION of the caches' sentinel pool (dispatch112.redis_sentinel).
    REDIS_URL = f"sentinel://{REDIS_SENTINEL_MASTER}/{REDIS_DB}"
if REDIS_URL:
    # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s that channels-redis
    # blocks in BZPOPMIN waiting for a message: an idle dashboard's consumer then dies with
    # "Timeout reading". Reads may take longer than that.
    _layer_host = {"address": REDIS_URL, "socket_timeout": 15}
    # The cache only speeds things up (core.shared_cache): a Redis that does not
    # answer within half a second is treated as down, and requests go on without it.
    _CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    if REDIS_SENTINELS:
        _layer_host = {
            "sentinels": REDIS_SENTINEL_HOSTS,
            "master_name": REDIS_SENTINEL_MASTER,
            "sentinel_kwargs": REDIS_SENTINEL_KWARGS,
            "db": REDIS_DB,
            "socket_timeout": 15,
            "socket_connect_timeout": 2,
        }
        _CACHE_OPTIONS |= {
            "pool_class": "dispatch112.redis_sentinel.SentinelPool",
            "sentinels": REDIS_SENTINEL_HOSTS,
            "sentinel_kwargs": REDIS_SENTINEL_KWARGS,
        }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [_layer_host],
                # channels-redis drops messages silently past `capacity` (default 100) per
                # channel; a wall screen that stalls for a second must not lose assignments.
                "capacity": env.int("CHANNEL_CAPACITY", default=1500),
                "expiry": env.int("CHANNEL_EXPIRY", default=30),
                "group_expiry": CHANNEL_GROUP_EXPIRY,
                "prefix": f"asgi{REDIS_KEY_PREFIX}",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": _CACHE_OPTIONS,
        },
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"throttle{REDIS_KEY_PREFIX}",
            "OPTIONS": _CACHE_OPTIONS,
        },
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"group_expiry": CHANNEL_GROUP_EXPIRY},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle",
        },
    }

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if REDIS_SENTINELS:
    # kombu's sentinel transport: every sentinel, then the master's name in the options.
    CELERY_BROKER_URL = ";".join(f"sentinel://{h}:{p}/{REDIS_DB}" for h, p in REDIS_SENTINEL_HOSTS)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": REDIS_SENTINEL_KWARGS,
    }
CELERY_RESULT_BACKEND = None
if REDIS_KEY_PREFIX:
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"{REDIS_KEY_PREFIX}:"
# Embedded mode has no worker process: tasks run in the caller's process.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
# The worker and beat log through the handler above (its outage filter included), not their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ACKS_LATE = True
# How often the escalation sweep runs (beat in production, a thread in the embedded server).
DISPATCH_SWEEP_SECONDS = env.float("DISPATCH_SWEEP_SECONDS", default=5.0)
# How often the CAP feeds are polled (beat in production, a thread in the embedded server).
DISPATCH_CAP_POLL_SECONDS = env.float("DISPATCH_CAP_POLL_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-escalations": {
        "task": "reports.tasks.sweep_escalations",
        "schedule": DISPATCH_SWEEP_SECONDS,
        # A sweep that waited longer than its period is superseded by the next one.
        "options": {"expires": DISPATCH_SWEEP_SECONDS},
    },
    "anonymise-old-callers": {
        "task": "reports.tasks.anonymise_old_callers",
        "schedule": timedelta(hours=24),
    },
    "poll-cap-feeds": {
        "task": "interop.tasks.poll_cap_feeds",
        "schedule": DISPATCH_CAP_POLL_SECONDS,
        "options": {"expires": DISPATCH_CAP_POLL_SECONDS},
    },
    "prune-unit-tracks": {
        "task": "units.tasks.prune_tracks",
        "schedule": timedelta(hours=1),
    },
}

# --- Auth --------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: counts failures and refuses a locked-out (username, address) before checking.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): 5 failures of one username from one address lock that pair
# out for 15 minutes; other users at the same command-centre address are not affected. The
# client address is REMOTE_ADDR, which Daphne takes from the proxy's X-Forwarded-For
# (--proxy-headers; deploy/nginx.conf overwrites that header).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "dispatch112.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation: Bahasa Indonesia first, WIB on screen, UTC in the database ----------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
# Pages speak Indonesian unless the user picks English with the switcher, which this cookie
# remembers for a year (core.locale); the API follows Accept-Language.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# --- Static files: vendored, served by WhiteNoise, no CDN ----------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
# In DEBUG, WhiteNoise serves straight from the source folders (no collectstatic needed),
# so a bare Daphne process serves the pages as runserver does.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "dispatch112.storage.StaticStorage"
    },
}

# --- Production hygiene ---------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: scripts, styles and everything else
# from this site only (the pages pass their data with json_script, no inline code), map tiles
# from DISPATCH_MAP_TILES' host, websockets back to this host, no framing, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # tile hosts added below
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): no page may use the camera, microphone,
# payment or the handset's position; the field app (SPEC §7) re-enables geolocation for itself.
PERMISSIONS_POLICY = {
    "geolocation": [],
    "camera": [],
    "microphone": [],
    "payment": [],
    "usb": [],
    "display-capture": [],
}
# TLS ends at the reverse proxy (docker-compose.yml); it tells us the original scheme.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Plain HTTP is redirected to HTTPS in production; the proxy's health check is not.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # the console's fetch() reads it to send X-CSRFToken
# A command-centre shift is 8–12 hours; a session outlives it, not a week.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 3600)

# The largest request body: a report with every field at its maximum, escaped, is ~40 KB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 128 * 1024

# --- Operations: GET /metrics (SPEC §12, issue 40 §5) ---------------------------------------------
# Prometheus may read /metrics from these addresses (IPs or networks; the request's REMOTE_ADDR:
# behind a proxy every request comes from the proxy, so use the token there) or with the header
# `Authorization: Bearer <METRICS_TOKEN>` (empty: no token is accepted).
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Scraped over plain HTTP inside the private network: never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an unauthenticated API client gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agencies.tokens.StrictTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["agencies.permissions.HasRole"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    # JSON bodies only: no multipart uploads spooling to disk.
    "DEFAULT_PARSER_CLASSES": ["core.api.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttles.BurstThrottle",
        "core.throttles.SustainedThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}


# Requests per user (per address when signed out) before 429 + Retry-After: far above what a
# person at a console or a dashboard sends, far below what guessing a value would need. An
# integration that needs more gets its own limits here; "none" (or empty) lifts a limit.
def _rate_limit(variable: str, default: str) -> str | None:
    value = env.str(variable, default=default).strip()
    return None if value.lower() in ("", "none") else value


# How long a token's user, role and agency stay in the shared cache (agencies.tokens):
# revocation and any change to the user end it at once in every process. Off without Redis.
TOKEN_CACHE_SECONDS = env.int("TOKEN_CACHE_SECONDS", default=60 if REDIS_URL else 0)
# The city's configuration kept per process, checked against a version in Redis on each use
# (agencies.directory); without Redis another process could not say it changed something.
DIRECTORY_CACHE = env.bool("DIRECTORY_CACHE", default=bool(REDIS_URL))

API_RATE_LIMITS = {
    "burst": _rate_limit("API_RATE_LIMIT_BURST", "20/s"),
    "sustained": _rate_limit("API_RATE_LIMIT_SUSTAINED", "600/min"),
    # Searches on pages (the agency history), per user: a person types a few a minute.
    "page_search": _rate_limit("PAGE_SEARCH_RATE_LIMIT", "20/min"),
    # Machines and the public (issue 33): Open311's api_key ships inside citizen apps, so it
    # is counted per key and per address; a wrong key or peer token per address.
    "open311": _rate_limit("API_RATE_LIMIT_OPEN311", "120/min"),
    "open311_post": _rate_limit("API_RATE_LIMIT_OPEN311_POST", "10/min"),
    "open311_key": _rate_limit("API_RATE_LIMIT_OPEN311_KEY", "60/min"),
    "refused_key": _rate_limit("API_RATE_LIMIT_REFUSED_KEY", "10/min"),
    "eido": _rate_limit("API_RATE_LIMIT_EIDO", "30/min"),
    "telephony": _rate_limit("API_RATE_LIMIT_TELEPHONY", "50/s"),
}
# Websocket frames (SPEC §13): a unit's positions are stored at most one per this many
# seconds (more are answered with an error frame), and a socket resumes at most once per
# DISPATCH_WS_RESUME_SECONDS (a resume from 0 replays up to 2,000 events).
DISPATCH_WS_POSITION_SECONDS = env.float("DISPATCH_WS_POSITION_SECONDS", default=1.0)
DISPATCH_WS_RESUME_SECONDS = env.float("DISPATCH_WS_RESUME_SECONDS", default=5.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "Dispatch 112 API",
    "DESCRIPTION": "Calls, reports, per-agency assignments and their state machine.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from drf-spectacular-sidecar: the docs work with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PriorityEnum": "agencies.models.Priority",
        "CloseReasonEnum": "reports.models.CloseReason",
        "CallOutcomeEnum": "reports.models.CallOutcome",
        "AssignmentStatusEnum": "reports.models.AssignmentStatus",
        "ReportStatusEnum": "reports.models.ReportStatus",
        "LocationSourceEnum": "reports.models.LocationSource",
    },
}

# --- Dispatch rules -------------------------------------------------------------------------------
# Seconds an assignment may stay `notified` before it is escalated, per report priority.
DISPATCH_ACK_TIMEOUT = {
    1: env.int("DISPATCH_ACK_TIMEOUT_P1", default=60),
    2: env.int("DISPATCH_ACK_TIMEOUT_P2", default=120),
    3: env.int("DISPATCH_ACK_TIMEOUT_P3", default=300),
}
# Delivery you can see (SPEC §12): an assignment that no screen of its agency has shown this
# many seconds after it was sent is "unheard": the operators are told, once, with the
# agency's phone number. Only assignments sent within the window are flagged (not a backlog).
DISPATCH_UNHEARD_SECONDS = env.int("DISPATCH_UNHEARD_SECONDS", default=15)
DISPATCH_UNHEARD_WINDOW_SECONDS = env.int("DISPATCH_UNHEARD_WINDOW_SECONDS", default=600)
# A number is flagged as a repeat prank caller after this many prank or ghost calls within
# the window (Kominfo blocks such numbers in stages).
DISPATCH_PRANK_FLAG_THRESHOLD = env.int("DISPATCH_PRANK_FLAG_THRESHOLD", default=3)
DISPATCH_PRANK_WINDOW_DAYS = env.int("DISPATCH_PRANK_WINDOW_DAYS", default=30)
# Map tiles for the operator's pin. The form works without them (no internet, no tiles).
DISPATCH_MAP_TILES = env.str(
    "DISPATCH_MAP_TILES", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
# The tile server's origin ({s} subdomains as a wildcard), for the CSP's img-src.
_tiles = urlsplit(DISPATCH_MAP_TILES.replace("{s}", "*"))
if _tiles.scheme in ("http", "https") and _tiles.netloc:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(f"{_tiles.scheme}://{_tiles.netloc}")
# The city as CAP alerts' area descriptions name it (interop.area).
DISPATCH_CITY_NAME = env.str("DISPATCH_CITY_NAME", default="Semarang")
# This centre as other systems see it (SPEC §10): its name and EIDO system id, the contact
# Open311's discovery document gives city apps, and how long a peer centre has to accept a
# handover before the operator is told it failed.
DISPATCH_CENTRE_NAME = env.str("DISPATCH_CENTRE_NAME", default="112 Kota Semarang")
DISPATCH_CENTRE_ID = env.str("DISPATCH_CENTRE_ID", default="urn:dispatch112:semarang")
# The demo's neighbouring centre (interop/seed.py), where `make run-kendal` serves it.
DISPATCH_DEMO_PEER_URL = env.str("DISPATCH_DEMO_PEER_URL", default="")
DISPATCH_OPEN311_CONTACT = env.str(
    "DISPATCH_OPEN311_CONTACT", default="Command Center 112 Kota Semarang"
)
DISPATCH_HANDOVER_TIMEOUT_SECONDS = env.float("DISPATCH_HANDOVER_TIMEOUT_SECONDS", default=10.0)
DISPATCH_MAP_CENTER = env.list("DISPATCH_MAP_CENTER", cast=float, default=[-6.9932, 110.4203])
# How late a call may be logged after it was received (e.g. after a network outage).
DISPATCH_RECEIVED_AT_MAX_AGE = timedelta(
    hours=env.int("DISPATCH_RECEIVED_AT_MAX_AGE_HOURS", default=24)
)
# Callers' names and numbers are erased this many days after the call (UU PDP No. 27/2022;
# `manage.py anonymise_callers`, daily from beat). Statistics keep every other field.
DISPATCH_RETENTION_DAYS = env.int("DISPATCH_RETENTION_DAYS", default=730)
# Prefix of the human-readable report number, e.g. LAP-20261125-0042.
DISPATCH_REPORT_PREFIX = env.str("DISPATCH_REPORT_PREFIX", default="LAP")
# Field units (SPEC §7): the speed travel-time estimates assume (straight line × the road
# factor), how long units' position tracks are kept, and the offline-sync rules of the field
# app (a tap is kept as its step's time unless it is this far in the future; one that
# reaches the server this long after it was tapped is marked as synced late).
DISPATCH_UNIT_SPEED_KMH = env.float("DISPATCH_UNIT_SPEED_KMH", default=30.0)
DISPATCH_ROAD_FACTOR = env.float("DISPATCH_ROAD_FACTOR", default=1.4)
DISPATCH_TRACK_DAYS = env.int("DISPATCH_TRACK_DAYS", default=7)
DISPATCH_FUTURE_TOLERANCE_SECONDS = 120
DISPATCH_LATE_SYNC_SECONDS = 120
# A position is published live to each dashboard at most once per unit per this many seconds.
DISPATCH_POSITION_COALESCE_SECONDS = 1.0
# An agency's shift, for its handover page (issue 17 §5): what escalated in the last N hours.
DISPATCH_SHIFT_HOURS = env.int("DISPATCH_SHIFT_HOURS", default=8)
# Web Push to phones in a pocket (SPEC §12, issue 40 §4; notifications/webpush.py). The VAPID
# private key: a PEM text, the path of a PEM file, or empty — then one is generated once into
# VAR_DIR/vapid_private.pem (set it when several hosts send: each would make its own).
# WEBPUSH_SUBJECT is the contact push services are given (mailto: or https:); WEBPUSH_TTL how
# long a push service keeps a message for a phone that is off (seconds).
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", default="")
WEBPUSH_SUBJECT = env.str("WEBPUSH_SUBJECT", default="mailto:admin@dispatch112.invalid")
WEBPUSH_TTL = env.int("WEBPUSH_TTL", default=900)
# Push endpoints on http:// or on this machine are refused unless DEBUG or this (the tests'
# local push service).
WEBPUSH_ALLOW_INSECURE_ENDPOINTS = env.bool("WEBPUSH_ALLOW_INSECURE_ENDPOINTS", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # An outage (database, Redis) is logged in one line, without a traceback (core.logs).
    "filters": {"outage": {"()": "core.logs.OutageWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["outage"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
