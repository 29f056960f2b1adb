"""The landing page: each role sees its own starting point. The full consoles (operator,
agency dashboard, supervisor board) are built on these in later issues."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agencies.models import Agency
from agencies.roles import Role, user_agency, user_role
from reports.models import OPEN_ASSIGNMENT_STATUSES, Assignment
from reports.selectors import open_reports_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = user_role(request.user)
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


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the reverse proxy and the benchmarks: answers after one database round trip."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
