"""The settings module in both modes. Each case imports it in a fresh interpreter with a
controlled environment, exactly as `make run` or a production process would."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from .waiting import run_python

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, django
from django.conf import settings
django.setup()
layer = settings.CHANNEL_LAYERS["default"]
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "layer": layer["BACKEND"],
    "layer_config": layer.get("CONFIG", {}),
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "debug": settings.DEBUG,
    "secret_key": settings.SECRET_KEY,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "secure_cookies": settings.SESSION_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "time_zone": settings.TIME_ZONE,
    "use_tz": settings.USE_TZ,
    "language": settings.LANGUAGE_CODE,
    "languages": [code for code, _ in settings.LANGUAGES],
    "first_app": settings.INSTALLED_APPS[0],
    "asgi": settings.ASGI_APPLICATION,
    "ack_timeouts": settings.DISPATCH_ACK_TIMEOUT,
}))
"""


def bare_environment(**environment) -> dict[str, str]:
    """This process's environment without any setting of ours (nor the test runner's), plus
    `environment`: what a freshly started server or command would see."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "SECURE_COOKIES",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "VAR_DIR",
            "API_RATE_LIMIT_BURST",
            "API_RATE_LIMIT_SUSTAINED",
            "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests' Playwright fixtures
        }
        and not key.startswith(("DATABASE_", "REDIS_", "SQLITE_", "DISPATCH_"))
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "dispatch112.settings",
        "ENV_FILE": "/nonexistent",
        **environment,
    }


def load_settings(**environment) -> subprocess.CompletedProcess:
    return run_python("-c", PROBE, env=bare_environment(**environment))


def settings_with(**environment) -> dict:
    result = load_settings(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_environment_is_the_embedded_default(tmp_path):
    s = settings_with(VAR_DIR=str(tmp_path))
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["db_name"] == str(tmp_path / "dispatch112.sqlite3")
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["cache"].endswith("LocMemCache")
    assert (s["broker"], s["eager"]) == ("memory://", True)
    # A real install (issue 20 §4): no debug pages unless DEBUG=true is set.
    assert s["debug"] is False
    assert s["secure_cookies"] is True
    assert s["allowed_hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert s["ack_timeouts"] == {"1": 60, "2": 120, "3": 300}


def test_the_embedded_mode_makes_its_own_secret_key_once(tmp_path):
    first = settings_with(VAR_DIR=str(tmp_path))["secret_key"]
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o077 == 0  # its owner's only
    assert len(first) >= 50 and not first.startswith("django-insecure")
    assert settings_with(VAR_DIR=str(tmp_path))["secret_key"] == first  # kept
    assert settings_with(VAR_DIR=str(tmp_path / "other"))["secret_key"] != first  # per install
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".secret")] == []


def test_debug_is_on_only_when_asked_for(tmp_path):
    assert settings_with(VAR_DIR=str(tmp_path), DEBUG="true")["debug"] is True
    assert settings_with(VAR_DIR=str(tmp_path), DEBUG="false")["debug"] is False


def test_urls_switch_to_postgres_and_redis_with_debug_off():
    s = settings_with(
        DATABASE_URL="postgres://dispatch:pw@db.internal:5432/dispatch112",
        REDIS_URL="redis://cache.internal:6379/2",
        SECRET_KEY="a-real-secret",
        ALLOWED_HOSTS="112.semarangkota.go.id,localhost",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["db_name"] == "dispatch112"
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert s["layer_config"]["hosts"] == [
        {"address": "redis://cache.internal:6379/2", "socket_timeout": 15}
    ]
    # channels-redis's default capacity of 100 drops messages silently; ours is set on purpose.
    assert s["layer_config"]["capacity"] >= 1000
    assert s["cache"].endswith("RedisCache")
    assert (s["broker"], s["eager"]) == ("redis://cache.internal:6379/2", False)
    assert s["debug"] is False
    assert s["allowed_hosts"] == ["112.semarangkota.go.id", "localhost"]
    assert s["secure_cookies"] is True
    assert s["hsts"] >= 31536000


@pytest.mark.parametrize(
    "environment",
    [
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"},
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", "DEBUG": "true"},
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", "SECRET_KEY": ""},
    ],
)
def test_a_secret_key_is_required_with_a_production_database(environment):
    result = load_settings(**environment)
    assert result.returncode != 0
    assert "SECRET_KEY must be set with DATABASE_URL" in result.stderr


def test_redis_alone_keeps_sqlite_but_shares_events():
    s = settings_with(REDIS_URL="redis://127.0.0.1:6379/3")
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert s["eager"] is False


def test_ack_timeouts_come_from_the_environment():
    s = settings_with(DISPATCH_ACK_TIMEOUT_P1="30", DISPATCH_ACK_TIMEOUT_P3="600")
    assert s["ack_timeouts"] == {"1": 30, "2": 120, "3": 600}


@pytest.mark.parametrize("environment", [{}, {"DATABASE_URL": "postgres://h/x", "SECRET_KEY": "k"}])
def test_both_modes_share_locale_time_and_asgi(environment):
    s = settings_with(**environment)
    assert (s["time_zone"], s["use_tz"]) == ("Asia/Jakarta", True)
    assert s["language"] == "id"
    assert "en" in s["languages"]
    assert s["first_app"] == "daphne"
    assert s["asgi"] == "dispatch112.asgi.application"


def test_production_static_files_collect_with_hashed_names(tmp_path):
    """What the Docker image and `make run` in production mode do: a manifest storage fails
    on any vendored file that references something missing (e.g. a source map)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}
    }
    env.update(
        DATABASE_URL="postgres://unused@127.0.0.1:1/unused",
        SECRET_KEY="build",
        STATIC_ROOT=str(tmp_path),
        ENV_FILE="/nonexistent",
    )
    result = run_python("manage.py", "collectstatic", "--noinput", "-v0", env=env)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in ["css/app.css", "js/console.js", "vendor/leaflet/leaflet.js"]:
        assert (tmp_path / manifest[name]).is_file()


def test_every_app_of_ours_ships_in_the_image_and_the_package():
    """A new app (units/, telephony/, …) that deploy/Dockerfile does not copy or pyproject's
    package list misses would start locally and fail to import in production."""
    import tomllib

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    ours = [app for app in settings.INSTALLED_APPS if (root / app / "apps.py").exists()]
    assert {"reports", "units", "telephony"} <= set(ours)
    dockerfile = (root / "deploy" / "Dockerfile").read_text()
    packages = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    included = packages["packages"]["find"]["include"]
    for app in ours:
        assert f"COPY {app} ./{app}" in dockerfile, app
        assert f"{app}*" in included, app
