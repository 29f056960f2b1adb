"""The landing page: each role sees its own starting point. The full consoles (operator,
agency dashboard, supervisor board) are built on these in later issues."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agencies.api import AgencySerializer, CategorySerializer, KecamatanSerializer
from agencies.models import Agency, Category, Kecamatan
from agencies.roles import Role, user_agency, user_role
from reports.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    CallOutcome,
    CloseReason,
)
from reports.selectors import open_reports_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = user_role(request.user)
    if role == Role.OPERATOR:
        return redirect("console")
    context: dict = {"role": role}
    if role in (Role.OPERATOR, Role.SUPERVISOR):
        context["reports"] = open_reports_for(request.user)[:100]
    if role == Role.SUPERVISOR:
        context["agencies"] = Agency.objects.filter(active=True).annotate(
            open_count=Count(
                "assignments", filter=Q(assignments__status__in=OPEN_ASSIGNMENT_STATUSES)
            ),
            waiting_count=Count("assignments", filter=Q(assignments__status="notified")),
        )
    if role == Role.AGENCY_STAFF:
        context["assignments"] = (
            Assignment.objects.filter(
                agency=user_agency(request.user), status__in=OPEN_ASSIGNMENT_STATUSES
            )
            .select_related("report__category", "report__kecamatan")
            .order_by("report__priority", "notified_at")[:100]
        )
    return render(request, f"home/{role.value}.html", context)


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The operator's console: call taking, routing, duplicates, open reports. The page is a
    shell; everything it does goes through the v1 API."""
    if user_role(request.user) != Role.OPERATOR:
        raise PermissionDenied
    config = {
        "username": request.user.get_username(),
        "server_time": timezone.now().isoformat(),
        "categories": CategorySerializer(
            Category.objects.filter(active=True).prefetch_related("default_agencies"), many=True
        ).data,
        "agencies": AgencySerializer(Agency.objects.filter(active=True), many=True).data,
        "kecamatan": KecamatanSerializer(Kecamatan.objects.all(), many=True).data,
        "map": {"tiles": settings.DISPATCH_MAP_TILES, "center": settings.DISPATCH_MAP_CENTER},
        # Labels in the page's language, from the same choices the models use.
        "labels": {
            "assignment": {str(k): str(v) for k, v in AssignmentStatus.choices},
            "outcome": {str(k): str(v) for k, v in CallOutcome.choices},
            "close": {str(k): str(v) for k, v in CloseReason.choices},
        },
    }
    return render(request, "console/console.html", {"config": config})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the reverse proxy and the benchmarks: answers after one database round trip."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
