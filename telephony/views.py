"""The call answering CSV (/performance/answering.csv), for the command centre."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from agencies.roles import Role, user_role
from performance.api import PerformanceFilterSerializer

from .performance import answering_csv


@login_required
@require_GET
def export_answering_csv(request: HttpRequest) -> HttpResponse:
    """The KPI for exactly the filter asked for (since/until): a bad one is refused."""
    if user_role(request.user) not in (Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied
    parsed = PerformanceFilterSerializer(data=request.GET)
    if not parsed.is_valid():
        lines = [f"{field}: {m}" for field, messages in parsed.errors.items() for m in messages]
        return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")
    return answering_csv(parsed.validated_data)
