"""Open311's requests in the database (SPEC §10): the services offered, the apps' keys, a POST
made a report, the reports a GET may see. The format itself — reading what an app sends,
writing what it gets — is interop.open311, which asks no query."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.utils.translation import gettext as _

from agencies.models import Category
from reports import access
from reports import services as report_services
from reports.models import Assignment, Report, ReportSource

from .models import Open311Client, Open311Request
from .open311 import MAX_RESULTS, Open311Error, Query, descriptions, parse_request


def services() -> QuerySet[Category]:
    """The services: the categories marked non-emergency."""
    return Category.objects.filter(active=True, non_emergency=True).prefetch_related(
        "default_agencies"
    )


def service(code: str) -> Category:
    category = services().filter(code=code).first()
    if category is None:
        raise Open311Error(404, [_("No service with code %(code)s.") % {"code": code}])
    return category


def client_for(api_key: str) -> Open311Client:
    client = Open311Client.objects.filter(api_key=api_key, active=True).first() if api_key else None
    if client is None:
        raise Open311Error(403, [_("The api_key is missing, unknown or withdrawn.")])
    return client


@transaction.atomic
def request_create(client: Open311Client, data) -> Report:
    """A POSTed request (form fields in `data`) as a report routed as usual, source open311."""
    fields = parse_request(data, lambda code: services().filter(code=code).exists())
    code, kept = fields.pop("code"), fields.pop("kept")
    category = services().get(code=code)
    try:
        return report_services.report_receive(
            actor=client.account,
            source=ReportSource.OPEN311,
            origin=client.name,
            category=code,
            description=fields.pop("description") or category.name,
            attach=lambda report: Open311Request.objects.create(
                report=report, client=client, **kept
            ),
            **fields,
        )
    except ValidationError as error:
        raise Open311Error(400, descriptions(error)) from error


def requests_queryset() -> QuerySet[Report]:
    """Only what came through Open311: the other reports are 112 calls, not the public's."""
    return (
        access.reports_for_the_public()
        .select_related("category", "open311_request")
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("agency"))
        )
        .annotate(last_event_at=Max("events__created_at"))
        .order_by("-received_at", "-pk")
    )


def requests_matching(query: Query) -> list[Report]:
    """GET requests (interop.open311.parse_query): at most MAX_RESULTS."""
    reports = requests_queryset()
    if query.ids:
        return list(reports.filter(number__in=query.ids))
    if query.codes:
        reports = reports.filter(category__code__in=query.codes)
    if query.statuses:
        reports = reports.filter(status__in=query.statuses)
    if query.start is not None:
        reports = reports.filter(received_at__gte=query.start)
    if query.end is not None:
        reports = reports.filter(received_at__lte=query.end)
    return list(reports[:MAX_RESULTS])


def request_detail(number: str) -> Report:
    report = requests_queryset().filter(number=number).first()
    if report is None:
        raise Open311Error(404, [_("No service request %(id)s.") % {"id": number}])
    return report
