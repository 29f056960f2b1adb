"""The landing page: each role sees its own starting point. The full consoles (operator,
agency dashboard, supervisor board) are built on these in later issues."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from agencies.api import AgencySerializer, CategorySerializer, KecamatanSerializer
from agencies.models import Agency, Category, Kecamatan
from agencies.roles import Role, user_agency, user_role
from core import throttles
from core.validation import EARLIEST_DAY, LATEST_DAY, Errors, refuse_control_characters
from interop.models import PeerCentre
from reports import access, history, services
from reports.screens import live_config


@login_required
def home(request: HttpRequest) -> HttpResponse:
    landing = {
        Role.OPERATOR: "console",
        Role.SUPERVISOR: "board",
        Role.AGENCY_STAFF: "agency-dashboard",
        Role.FIELD: "field",
    }.get(user_role(request.user))
    if landing:
        return redirect(landing)
    return render(request, "home/none.html")


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The operator's console: call taking, routing, duplicates, open reports. The page is a
    shell; everything it does goes through the v1 API."""
    if user_role(request.user) != Role.OPERATOR:
        raise PermissionDenied
    config = live_config(
        request,
        categories=CategorySerializer(
            Category.objects.filter(active=True).prefetch_related("default_agencies"), many=True
        ).data,
        # Only active agencies can be chosen as chips.
        agencies=AgencySerializer(Agency.objects.filter(active=True), many=True).data,
        kecamatan=KecamatanSerializer(Kecamatan.objects.all(), many=True).data,
        map={"tiles": settings.DISPATCH_MAP_TILES, "center": settings.DISPATCH_MAP_CENTER},
        # The other 112 centres a report can be handed over to (EIDO, SPEC §10).
        peer_centres=list(
            PeerCentre.objects.filter(active=True).order_by("name").values("code", "name")
        ),
    )
    return render(request, "console/console.html", {"config": config})


@login_required
def agency_dashboard(request: HttpRequest) -> HttpResponse:
    """The live queue of one agency's assignments, for a desk or a phone."""
    agency = user_agency(request.user)
    if user_role(request.user) != Role.AGENCY_STAFF or agency is None:
        raise PermissionDenied
    config = live_config(
        request,
        agency=AgencySerializer(agency).data,
        # For managing the agency's units (SPEC §7): their homes.
        kecamatan=KecamatanSerializer(Kecamatan.objects.all(), many=True).data,
    )
    context = {
        "config": config,
        "agency": agency,
        "target_minutes": round(agency.response_target_seconds / 60),
    }
    return render(request, "agency/dashboard.html", context)


def _parse_day(raw: str) -> date | None:
    """ "today", "yesterday", 03/12/2026, 3-12-2026 or 2026-12-03 → a WIB day (day-first,
    as the Indonesian UI writes it); None when it is none of these, or a day the centre
    cannot have had (31/12/9999 has no next day to end it)."""
    raw = raw.strip().lower()
    if raw in ("", "today"):
        return history.today()
    if raw == "yesterday":
        return history.today() - timedelta(days=1)
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            day = datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        return day if EARLIEST_DAY <= day <= LATEST_DAY else None
    return None


@login_required
@require_GET
def agency_history(request: HttpRequest) -> HttpResponse:
    """/agency/history/: the agency's finished work of one day, or searched (issue 17 §5).
    Searches are throttled per user; a caller's number is not searched here (SPEC §13)."""
    viewer = access.viewer_of(request)
    if history.history_for(viewer) is None:
        raise PermissionDenied
    query = request.GET.get("q", "")[:100]
    raw_day = request.GET.get("day", "")
    refused = Errors()
    refuse_control_characters(refused, "q", query)
    refuse_control_characters(refused, "day", raw_day)
    if refused.by_field:
        messages = [f"{field}: {e.message}" for field, es in refused.by_field.items() for e in es]
        return HttpResponseBadRequest("\n".join(messages), content_type="text/plain; charset=utf-8")
    if query.strip() and (wait := throttles.wait_for(request, "page_search", _ident(request))):
        response = HttpResponse(
            _("Too many searches: wait %(seconds)d seconds.") % {"seconds": wait},
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(wait)
        return response
    error = None
    if query.strip() and not raw_day:
        day = None  # a search looks through every day
    elif (day := _parse_day(raw_day)) is None:
        error = _("“%(day)s” is not a date: write it day first, e.g. 03/12/2026.") % {
            "day": raw_day[:20]
        }
        day = history.today()
    rows = list(history.history_for(viewer, day=day, query=query))
    for row in rows:
        row.caller = history.caller_shown(viewer, row)
        row.response_minutes = history.response_minutes(row)
    today = history.today()
    context = {
        "rows": rows,
        "limit": history.HISTORY_LIMIT,
        "query": query,
        "day": day,
        "day_text": raw_day if error else (day.strftime("%d/%m/%Y") if day else ""),
        "today": today,
        "yesterday": today - timedelta(days=1),
        "error": error,
        # Said, not silently ignored: the number is searched at the command centre only.
        "phone_not_searched": history.looks_like_phone(query),
        "agency": user_agency(request.user),
        "field": viewer.role == Role.FIELD,
    }
    return render(request, "agency/history.html", context)


def _ident(request: HttpRequest) -> str:
    return f"user-{request.user.pk}"


@login_required
def agency_handover(request: HttpRequest) -> HttpResponse:
    """/agency/handover/: what one shift hands the next, and its notes (issue 17 §5)."""
    agency = user_agency(request.user)
    if user_role(request.user) != Role.AGENCY_STAFF or agency is None:
        raise PermissionDenied
    body, errors = "", []
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            services.handover_note_add(author=request.user, body=body)
        except ValidationError as error:
            errors = [m for messages in error.message_dict.values() for m in messages]
        else:
            return redirect(f"{reverse('agency-handover')}?saved=1")
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    context = {
        "agency": agency,
        "handover": history.handover_for(agency),
        "hours": settings.DISPATCH_SHIFT_HOURS,
        "body": body,
        "errors": errors,
        "saved": request.GET.get("saved") == "1" and not errors,
        "now": timezone.now(),
    }
    return render(request, "agency/handover.html", context, status=400 if errors else 200)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The command centre's wall screen: every open report, each agency's status and clock."""
    if user_role(request.user) not in (Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied
    return render(request, "board/board.html", {"config": live_config(request)})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on their own: the app's icon (no 404 per page)."""
    return redirect(static("img/icon.svg"), permanent=True)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the reverse proxy and the benchmarks: answers after one database round trip."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# Readiness (issue 35 §4): what an alarm or a load balancer asks. Each check is bounded.
READY_TIMEOUT = 0.5  # seconds for Redis's ping and the Celery worker's
# The escalation sweep runs every DISPATCH_SWEEP_SECONDS (beat + worker, or the embedded
# server's thread): older than this, escalations have stopped.
SWEEP_MAX_AGE = 30.0


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _redis_ping(url: str | None = None) -> None:
    """The Redis at `url`, or this installation's (REDIS_URL, or the master the sentinels
    name)."""
    import redis

    from notifications.redis_client import sync_client

    options = {"socket_timeout": READY_TIMEOUT, "socket_connect_timeout": READY_TIMEOUT}
    client = redis.Redis.from_url(url, **options) if url else sync_client(**options)
    with client:
        client.ping()


def _check_channel_layer() -> dict:
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        return {"ok": True, "mode": "in-process"}
    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    _redis_ping(host.get("address"))  # None with sentinels: the master they name
    return {"ok": True, "mode": "redis"}


def _check_worker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process"}
    from dispatch112.celery import app

    if settings.CELERY_BROKER_URL.startswith(("redis", "sentinel")):
        # Celery's own connection retries for seconds when the broker is away: ask first.
        try:
            _redis_ping()
        except Exception as error:
            return {"ok": False, "error": f"the broker (Redis) is unreachable: {error}"[:300]}
    replies = app.control.ping(timeout=READY_TIMEOUT, limit=1)
    if not replies:
        return {"ok": False, "error": f"no Celery worker answered a ping in {READY_TIMEOUT} s"}
    return {"ok": True, "mode": "celery", "answered": sorted(k for r in replies for k in r)}


def _check_sweep() -> dict:
    from notifications.models import ESCALATION_SWEEP, Heartbeat

    limit = max(SWEEP_MAX_AGE, 6 * settings.DISPATCH_SWEEP_SECONDS)
    age = Heartbeat.age_seconds(ESCALATION_SWEEP)
    if age is None:
        return {"ok": False, "age_seconds": None, "error": "the escalation sweep never ran"}
    check = {"ok": age <= limit, "age_seconds": round(age, 1), "max_age_seconds": limit}
    if not check["ok"]:
        check["error"] = "escalations have stopped (is beat or the worker down?)"
    return check


READINESS_CHECKS = {
    "database": _check_database,
    "channel_layer": _check_channel_layer,
    "worker": _check_worker,
    "escalation_sweep": _check_sweep,
}


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, the channel layer (Redis), a Celery worker (a ping;
    in-process in embedded mode) and a recent escalation sweep are all there; 503 naming what
    is not. /healthz stays the cheap liveness check."""
    checks, failing = {}, []
    for name, check in READINESS_CHECKS.items():
        try:
            checks[name] = check()
        except Exception as error:  # what is down is the answer, not an error page
            checks[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        if not checks[name]["ok"]:
            failing.append(name)
    response = JsonResponse(
        {"status": "not ready" if failing else "ready", "failing": failing, "checks": checks},
        status=503 if failing else 200,
    )
    response["Cache-Control"] = "no-store"
    return response
