"""The v1 API of reports, calls, assignments and messages (SPEC §4). Thin: parse, call a
service or selector, serialise. Who sees what comes from reports.access."""

from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from agencies.codes import is_code
from agencies.permissions import HasRole, IsCommandCentre, IsOperator
from agencies.roles import Role, user_role
from reports import access, live, privacy, selectors, services
from reports.idempotency import idempotent
from reports.models import AssignmentStatus
from reports.phone import normalize_phone

from . import serializers as s
from .filters import AssignmentFilter, CallFilter, ReportFilter


class ReportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Reports the user may see: all for the command centre, assigned ones for agency staff."""

    serializer_class = s.ReportSerializer
    filterset_class = ReportFilter

    def get_queryset(self):
        viewer = access.viewer_of(self.request)
        return selectors.with_details(access.reports_visible_to(viewer)).order_by(
            "-received_at", "-pk"
        )

    def get_permissions(self):
        # `close` is not IsOperator here: a report outside the user's visibility must be a
        # 404 first; the service then refuses non-operators (403).
        if self.action == "create":
            return [IsOperator()]
        if self.action == "duplicates":
            return [IsCommandCentre()]
        return [HasRole(with_field=True)]

    def get_serializer_context(self):
        # Agency staff see callers' numbers masked except in a report's detail, whose every
        # read is recorded, and no caller at all on a report they left (reports.privacy).
        return {
            **super().get_serializer_context(),
            **privacy.serializer_context(
                access.viewer_of(self.request), detail=self.action == "retrieve"
            ),
        }

    def filter_queryset(self, queryset):
        # Searching by number would tell agency staff whose number a masked one is, one
        # guess at a time, with no record of the read: the command centre's tool only.
        if "phone" in self.request.query_params and not access.viewer_of(self.request).sees_all:
            raise PermissionDenied(_("Only the command centre can search reports by phone number."))
        return super().filter_queryset(queryset)

    def retrieve(self, request, *args, **kwargs):
        """One report, with the caller's number in full (a read by agency staff is
        recorded, UU PDP Art. 31), or withheld if the user's agency left the report."""
        report = self.get_object()
        data = self.get_serializer(report).data
        if not access.viewer_of(request).sees_all and not data["caller_withheld"]:
            privacy.record_phone_read(request.user, report)
        return Response(data)

    def _report_response(self, report, code=status.HTTP_200_OK) -> Response:
        report = self.get_queryset().get(pk=report.pk)
        return Response(s.ReportSerializer(report).data, status=code)

    @extend_schema(request=s.ReportCreateSerializer, responses={201: s.ReportSerializer})
    def create(self, request, *args, **kwargs):
        """Logs the call as a new report and fans it out to its agencies. With an
        `Idempotency-Key` (the console sends one per draft), a retry whose first answer was
        lost gets that answer again and makes no second report (issue 35 §2)."""
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = s.ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with live.built_reports() as published:
            report = services.report_create(operator=request.user, **data.validated_data)
        if report.pk in published:
            # The report as its live event carried it, serialised once after the commit.
            return Response(published[report.pk], status=status.HTTP_201_CREATED)
        return self._report_response(report, status.HTTP_201_CREATED)

    def _operator_only(self, request) -> None:
        # Not IsOperator in get_permissions: a report outside the user's visibility must be
        # a 404 first; a role problem is then a 403, before the body is read (never a 400).
        if user_role(request.user) != Role.OPERATOR:
            raise PermissionDenied

    @extend_schema(request=s.ReportEditSerializer, responses={200: s.ReportSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Corrects an open report (SPEC §11): description, address, kecamatan, pin,
        priority; the agencies on it get `report.updated` naming the changed fields."""
        report = self.get_object()
        self._operator_only(request)
        data = s.ReportEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.report_edit(actor=request.user, report=report, **data.validated_data)
        return self._report_response(report)

    @extend_schema(request=s.AssignmentAddSerializer, responses={201: s.AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def assignments(self, request, pk=None):
        """Adds an agency to the open report: a new `notified` assignment (409 if the agency
        is already on it)."""
        report = self.get_object()
        self._operator_only(request)
        data = s.AssignmentAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_add(
            actor=request.user, report=report, **data.validated_data
        )
        return Response(s.AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.EventSerializer(many=True)})
    @action(detail=True, pagination_class=None, filterset_class=None)
    def events(self, request, pk=None):
        """The report's timeline, oldest first: the events the user may see of it."""
        report = self.get_object()
        events = (
            access.events_visible_to(access.viewer_of(request))
            .filter(report=report)
            .select_related("actor", "assignment__agency")
            .order_by("pk")
        )
        return Response(s.EventSerializer(events, many=True).data)

    @extend_schema(request=s.ReportCloseSerializer, responses={200: s.ReportSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Closes the report (resolved, prank, ghost, information, non_emergency, duplicate)
        and cancels its open assignments."""
        report = self.get_object()
        self._operator_only(request)
        data = s.ReportCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.report_close(actor=request.user, report=report, **data.validated_data)
        return self._report_response(report)

    @extend_schema(methods=["GET"], responses={200: s.MessageSerializer(many=True)}, request=None)
    @extend_schema(
        methods=["POST"], request=s.MessageSerializer, responses={201: s.MessageSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def messages(self, request, pk=None):
        """The inter-agency chat on a report (not for an agency that left it)."""
        report = self.get_object()
        # The report's assignments are already loaded (with_details): no query of its own.
        if access.has_left(access.viewer_of(request), report):
            raise PermissionDenied(_("Your agency has left this report: its chat is closed."))
        if request.method == "POST":
            data = s.MessageSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            message = services.message_post(
                author=request.user, report=report, body=data.validated_data["body"]
            )
            return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)
        messages = report.messages.select_related("author", "author_agency")
        return Response(s.MessageSerializer(messages, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str),
            OpenApiParameter("kecamatan", str),
            OpenApiParameter("latitude", float),
            OpenApiParameter("longitude", float),
            OpenApiParameter("phone", str),
        ],
        responses={200: s.ReportSerializer(many=True)},
    )
    @action(detail=False, pagination_class=None, filterset_class=None)
    def duplicates(self, request):
        """Open reports this call may be about (same category nearby in the last hour, or the
        same phone), nearest first."""
        params = request.query_params
        try:
            phone = normalize_phone(params.get("phone", ""))
        except ValidationError:
            phone = None  # a number still being typed
        latitude, longitude = _float(params.get("latitude")), _float(params.get("longitude"))
        category, kecamatan = params.get("category"), params.get("kecamatan")
        reports = selectors.possible_duplicates(
            category=category if is_code(category) else None,
            kecamatan=kecamatan if is_code(kecamatan) else None,
            latitude=latitude,
            longitude=longitude,
            phone=phone,
        )
        return Response(s.ReportSerializer(reports, many=True).data)


def _float(value: str | None) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) <= 180 else None


class CallViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every call the command centre took. Agency staff do not see callers' call history."""

    serializer_class = s.CallSerializer
    filterset_class = CallFilter

    def get_queryset(self):
        calls = access.calls_visible_to(access.viewer_of(self.request))
        return calls.select_related("operator", "report").order_by("-received_at", "-pk")

    def get_permissions(self):
        return [IsOperator()] if self.action == "create" else [IsCommandCentre()]

    @extend_schema(request=s.CallCreateSerializer, responses={201: s.CallSerializer})
    def create(self, request, *args, **kwargs):
        """Logs a call that created no report (information, prank, ghost, other), or one
        `attached` to an open report. Honours `Idempotency-Key` as reports do."""

        def log() -> Response:
            data = s.CallCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            call = services.call_log(operator=request.user, **data.validated_data)
            return Response(s.CallSerializer(call).data, status=status.HTTP_201_CREATED)

        return idempotent(request, log)

    @extend_schema(
        parameters=[OpenApiParameter("phone", OpenApiTypes.STR, required=True)],
        responses={200: s.PhoneHistorySerializer},
    )
    @action(detail=False, filterset_class=None, pagination_class=None)
    def history(self, request):
        """A number's history: calls, prank count in the window, flag, open reports."""
        try:
            phone = normalize_phone(request.query_params.get("phone", ""))
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from error
        return Response(s.PhoneHistorySerializer(selectors.phone_history(phone)).data)


ACTION_INPUT = {
    "dispatch": s.DispatchSerializer,
    "reject": s.RejectSerializer,
    "depart": s.FieldStepSerializer,
    "arrive": s.FieldStepSerializer,
    "resolve": s.ResolveSerializer,
    "cancel": s.CancelSerializer,
}

# The agency queue (SPEC §11): waiting for the agency's action first, then under way, then
# finished; P1 before P2 before P3; then oldest first.
QUEUE_RANK = Case(
    When(status=AssignmentStatus.NOTIFIED, then=Value(0)),
    When(status__in=[AssignmentStatus.ACKNOWLEDGED, AssignmentStatus.DISPATCHED,
                     AssignmentStatus.ON_SCENE], then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)  # fmt: skip


class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Agency staff see and act on their own agency's assignments only (others: 404); a
    field officer on those their unit serves now, and sees those they acted on themselves
    (reports.access.own_assignments). Every action takes an
    `Idempotency-Key` header: a replayed key gets the first answer and changes nothing.
    Listed in queue order (QUEUE_RANK)."""

    serializer_class = s.AssignmentSerializer
    filterset_class = AssignmentFilter

    def get_queryset(self):
        return (
            access.own_assignments(access.viewer_of(self.request))
            .select_related("agency", "report", "seen_by")
            .annotate(queue_rank=QUEUE_RANK)
            .order_by("queue_rank", "report__priority", "notified_at", "pk")
        )

    def get_permissions(self):
        return [HasRole(with_field=True)]

    def _act(self, request, name: str) -> Response:
        def act() -> Response:
            assignment = self.get_object()
            fields = {}
            if name in ACTION_INPUT:
                data = ACTION_INPUT[name](data=request.data)
                data.is_valid(raise_exception=True)
                fields = data.validated_data
            function = getattr(services, f"assignment_{name}")
            updated = function(assignment=assignment, actor=request.user, **fields)
            return Response(s.AssignmentSerializer(updated).data)

        return idempotent(request, act)

    @extend_schema(request=None, responses={200: s.AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._act(request, "acknowledge")

    @extend_schema(request=s.DispatchSerializer, responses={200: s.AssignmentSerializer})
    # Not named `dispatch`: that is APIView's request entry point.
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_unit(self, request, pk=None):
        return self._act(request, "dispatch")

    @extend_schema(request=s.FieldStepSerializer, responses={200: s.AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def depart(self, request, pk=None):
        """The crew rolls (*Berangkat*)."""
        return self._act(request, "depart")

    @extend_schema(request=s.FieldStepSerializer, responses={200: s.AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def arrive(self, request, pk=None):
        """On scene: the response time ends at `occurred_at` when the phone sent one."""
        return self._act(request, "arrive")

    @extend_schema(request=s.ResolveSerializer, responses={200: s.AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._act(request, "resolve")

    @extend_schema(request=s.RejectSerializer, responses={200: s.AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._act(request, "reject")

    @extend_schema(request=s.CancelSerializer, responses={200: s.AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The command centre takes the agency off the report, telling it why."""
        return self._act(request, "cancel")
