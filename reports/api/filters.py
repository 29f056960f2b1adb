from datetime import UTC, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from reports.models import Assignment, AssignmentStatus, Call, CallOutcome, Report, ReportStatus
from reports.phone import normalize_phone


class PhoneField(forms.CharField):
    """Accepts a number typed any way and filters on its +62 form; a bad one is a 400."""

    def clean(self, value):
        value = super().clean(value)
        return normalize_phone(value) if value else value


class PhoneFilter(django_filters.CharFilter):
    field_class = PhoneField


# Times a filter may name: anything outside cannot match a report and some of it cannot be
# stored (year 1, offsets beyond ±15:59 are refused by PostgreSQL).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
BIGGEST_ID = 2**63 - 1


class BoundedDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, converted to UTC, between EARLIEST and LATEST (else a 400)."""

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return value
        try:
            value = value.astimezone(UTC)
        except (OverflowError, ValueError) as error:
            raise ValidationError(_("This time is out of range.")) from error
        if not EARLIEST <= value < LATEST:
            raise ValidationError(_("This time is out of range."))
        return value


class TimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedDateTimeField


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=BIGGEST_ID, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """A row id: a positive 64-bit integer (bigger ones cannot be sent to PostgreSQL)."""

    field_class = IdField


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    category = django_filters.CharFilter(field_name="category__code")
    kecamatan = django_filters.CharFilter(field_name="kecamatan__code")
    priority = django_filters.TypedChoiceFilter(choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int)
    phone = PhoneFilter(field_name="caller_phone")
    received_after = TimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = TimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Report
        fields = ["status", "category", "kecamatan", "priority", "number"]


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=AssignmentStatus.choices)
    agency = django_filters.CharFilter(field_name="agency__code")
    report = IdFilter(field_name="report_id")

    class Meta:
        model = Assignment
        fields = ["status", "agency", "report"]


class CallFilter(django_filters.FilterSet):
    phone = PhoneFilter(field_name="caller_phone")
    outcome = django_filters.MultipleChoiceFilter(choices=CallOutcome.choices)
    report = IdFilter(field_name="report_id")
    received_after = TimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = TimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Call
        fields = ["phone", "outcome", "report"]
