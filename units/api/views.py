"""/api/v1/units/ and /api/v1/assignments/{id}/units/ (SPEC §7). Thin: parse, call
units.services, answer with the wire form every live client shares (reports.live)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.codes import is_code
from agencies.models import Unit, UnitKind, UnitStatus
from agencies.permissions import HasRole
from core.fields import Text
from core.validation import Errors, clean_choice, refuse_control_characters
from reports import access
from reports.idempotency import idempotent
from reports.live import units_data

from .. import services


class UnitSerializer(serializers.Serializer):
    """The shape of a unit in answers (built by reports.live.unit_data)."""

    id = serializers.IntegerField()
    agency = serializers.CharField()
    call_sign = serializers.CharField()
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    home_kecamatan = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=UnitStatus.choices)
    active = serializers.BooleanField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    accuracy_m = serializers.FloatField(allow_null=True)
    position_at = serializers.DateTimeField(allow_null=True)
    assignment = serializers.IntegerField(allow_null=True, help_text="The one it serves.")
    report = serializers.IntegerField(allow_null=True)
    report_number = serializers.CharField(allow_null=True)


class UnitWriteSerializer(serializers.Serializer):
    call_sign = Text(max_length=20)
    kind = Text(max_length=16)
    home_kecamatan = Text(max_length=40, required=False, allow_blank=True, allow_null=True)
    active = serializers.BooleanField(required=False)


class StatusSerializer(serializers.Serializer):
    status = Text(max_length=16, help_text="available or out_of_service")


class PositionSerializer(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    accuracy_m = serializers.FloatField(required=False, allow_null=True)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True)


class RecommendationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    call_sign = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    distance_m = serializers.IntegerField(allow_null=True)
    eta_minutes = serializers.IntegerField(allow_null=True)
    position_age_s = serializers.IntegerField(
        allow_null=True, help_text="Null: no position yet, measured from its home kecamatan."
    )
    from_home = serializers.BooleanField()


def _filters(params) -> tuple[str, str]:
    """`?agency=` (a code) and `?status=` (a unit status), or a 400 naming the field: a NUL
    reached PostgreSQL, which refuses it (a 500)."""
    errors = Errors()
    agency, status_ = params.get("agency", ""), params.get("status", "")
    if not refuse_control_characters(errors, "agency", agency) and agency and not is_code(agency):
        errors.add("agency", _("Give an agency code."))
    if not refuse_control_characters(errors, "status", status_) and status_:
        clean_choice(errors, "status", status_, UnitStatus)
    if errors.by_field:
        raise ValidationError(
            {field: [e.message for e in es] for field, es in errors.by_field.items()}
        )
    return agency, status_


def _one(unit: Unit) -> dict:
    unit = Unit.objects.select_related("agency", "home_kecamatan").get(pk=unit.pk)
    return units_data([unit])[0]


class UnitViewSet(viewsets.GenericViewSet):
    """Units: read by the command centre and the unit's agency; configured by the agency's
    staff; moved and set available / out of service by its crew or staff."""

    serializer_class = UnitSerializer
    pagination_class = None

    def get_queryset(self):
        units = access.units_visible_to(access.viewer_of(self.request))
        if self.action == "list":
            params = self.request.query_params
            agency, status_ = _filters(params)
            if agency:
                units = units.filter(agency__code=agency)
            if status_:
                units = units.filter(status=status_)
            if params.get("active") != "all":
                units = units.filter(active=True)
        return units

    def get_permissions(self):
        return [HasRole(with_field=True)]

    @extend_schema(responses={200: UnitSerializer(many=True)})
    def list(self, request):
        """`?agency=`, `?status=`; `?active=all` includes retired units."""
        return Response(units_data(self.get_queryset()))

    @extend_schema(responses={200: UnitSerializer})
    def retrieve(self, request, pk=None):
        return Response(units_data([self.get_object()])[0])

    @extend_schema(request=UnitWriteSerializer, responses={201: UnitSerializer})
    def create(self, request):
        """A new unit of the caller's agency (its staff)."""
        data = UnitWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("active", None)
        unit = services.unit_create(actor=request.user, **fields)
        return Response(_one(unit), status=status.HTTP_201_CREATED)

    @extend_schema(request=UnitWriteSerializer(partial=True), responses={200: UnitSerializer})
    def partial_update(self, request, pk=None):
        unit = self.get_object()
        data = UnitWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.unit_update(actor=request.user, unit=unit, **data.validated_data)
        return Response(_one(unit))

    def _act(self, request, work) -> Response:
        return idempotent(request, lambda: work(self.get_object()))

    @extend_schema(request=None, responses={200: UnitSerializer})
    @action(detail=True, methods=["post"], url_path="sign-on", url_name="sign-on")
    def sign_on(self, request, pk=None):
        """The field officer joins this unit's crew for the shift."""
        return self._act(
            request, lambda u: Response(_one(services.sign_on(officer=request.user, unit=u)))
        )

    @extend_schema(request=None, responses={200: UnitSerializer})
    @action(detail=True, methods=["post"], url_path="sign-off", url_name="sign-off")
    def sign_off(self, request, pk=None):
        return self._act(
            request, lambda u: Response(_one(services.sign_off(officer=request.user, unit=u)))
        )

    @extend_schema(request=StatusSerializer, responses={200: UnitSerializer})
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """available / out_of_service, by its crew or its agency's staff."""
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._act(
            request,
            lambda u: Response(
                _one(services.unit_status(actor=request.user, unit=u, **data.validated_data))
            ),
        )

    @extend_schema(request=PositionSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def position(self, request, pk=None):
        """A GPS fix from the unit's crew (or its agency): 204, nothing in the answer."""
        unit = self.get_object()
        data = PositionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_position(actor=request.user, unit=unit, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssignmentUnitsView(APIView):
    """GET /api/v1/assignments/{id}/units/: the agency's units, the closest available first."""

    def get_permissions(self):
        return [HasRole()]

    @extend_schema(responses={200: RecommendationSerializer(many=True)})
    def get(self, request, pk: int):
        # Agency staff: their agency's; field officers are refused above (HasRole).
        assignments = access.own_assignments(access.viewer_of(request))
        assignment = get_object_or_404(
            assignments.select_related("report", "report__kecamatan"), pk=pk
        )
        return Response(services.recommend(assignment))
