"""/api/v1/stats/agencies/ (SPEC §4) and the filter every performance page, export and
section (telephony's answering) parses: whole WIB days, category, kecamatan, priority."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.permissions import IsCommandCentre
from core.validation import EARLIEST_DAY, LATEST_DAY

from .selectors import PerformanceFilter, agency_performance, this_month

DAY_FORMATS = ["iso-8601", "%d/%m/%Y", "%d-%m-%Y"]


class PerformanceFilterSerializer(serializers.Serializer):
    """?since=YYYY-MM-DD&until=YYYY-MM-DD (WIB days, inclusive; default this month). The
    page's form writes them day first, as the Indonesian UI does (03/12/2026)."""

    since = serializers.DateField(required=False, input_formats=DAY_FORMATS)
    until = serializers.DateField(required=False, input_formats=DAY_FORMATS)
    category = serializers.SlugField(required=False, allow_blank=True, max_length=64)
    kecamatan = serializers.SlugField(required=False, allow_blank=True, max_length=64)
    priority = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3)

    def validate(self, data):
        default = this_month()
        since, until = data.get("since") or default.since, data.get("until") or default.until
        for name, day in (("since", since), ("until", until)):
            if not EARLIEST_DAY <= day <= LATEST_DAY:
                raise serializers.ValidationError(
                    {name: _("Choose a day between %(first)s and %(last)s.")
                     % {"first": EARLIEST_DAY.isoformat(), "last": LATEST_DAY.isoformat()}}
                )  # fmt: skip
        if until < since:
            raise serializers.ValidationError({"until": _("The end is before the start.")})
        if (until - since).days > 3660:
            raise serializers.ValidationError({"since": _("At most ten years at a time.")})
        return PerformanceFilter(
            since=since,
            until=until,
            category=data.get("category") or None,
            kecamatan=data.get("kecamatan") or None,
            priority=data.get("priority"),
        )


def performance_filter(params) -> PerformanceFilter:
    """The filter a request asks for; raises DRF ValidationError (400) on bad input."""
    parsed = PerformanceFilterSerializer(data=params)
    parsed.is_valid(raise_exception=True)
    return parsed.validated_data


class AgencyPerformanceRowSerializer(serializers.Serializer):
    agency = serializers.CharField()
    agency_name = serializers.CharField()
    assignments = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    arrived = serializers.IntegerField()
    resolved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    escalated = serializers.IntegerField()
    unheard = serializers.IntegerField(
        help_text="Assignments no screen of the agency showed in DISPATCH_UNHEARD_SECONDS."
    )
    delivery_seconds_median = serializers.FloatField(
        allow_null=True, help_text="Notified → first shown on a screen of the agency."
    )
    seen_seconds_median = serializers.FloatField(
        allow_null=True, help_text="Notified → first seen by a person of the agency."
    )
    ack_seconds_median = serializers.FloatField(allow_null=True)
    ack_seconds_p90 = serializers.FloatField(allow_null=True)
    response_seconds_median = serializers.FloatField(allow_null=True)
    response_seconds_p90 = serializers.FloatField(allow_null=True)
    within_target_pct = serializers.FloatField(allow_null=True)
    target_seconds = serializers.IntegerField()
    ranked = serializers.BooleanField(help_text="False when too few samples to rank fairly.")


class AgencyPerformanceView(APIView):
    """Per-agency performance (SPEC §4): counts, median and p90 of acknowledgement and
    response times (percentile_cont), share within the agency's target; fastest first."""

    permission_classes = [IsCommandCentre]

    @extend_schema(
        parameters=[PerformanceFilterSerializer],
        responses={200: AgencyPerformanceRowSerializer(many=True)},
    )
    def get(self, request):
        rows = agency_performance(performance_filter(request.query_params))
        return Response(AgencyPerformanceRowSerializer(rows, many=True).data)
