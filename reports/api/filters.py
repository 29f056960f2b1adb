import django_filters
from django import forms

from reports.models import Assignment, AssignmentStatus, Call, CallOutcome, Report, ReportStatus
from reports.phone import normalize_phone


class PhoneField(forms.CharField):
    """Accepts a number typed any way and filters on its +62 form; a bad one is a 400."""

    def clean(self, value):
        value = super().clean(value)
        return normalize_phone(value) if value else value


class PhoneFilter(django_filters.CharFilter):
    field_class = PhoneField


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    category = django_filters.CharFilter(field_name="category__code")
    kecamatan = django_filters.CharFilter(field_name="kecamatan__code")
    priority = django_filters.NumberFilter()
    phone = PhoneFilter(field_name="caller_phone")
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Report
        fields = ["status", "category", "kecamatan", "priority", "number"]


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=AssignmentStatus.choices)
    agency = django_filters.CharFilter(field_name="agency__code")

    class Meta:
        model = Assignment
        fields = ["status", "agency", "report"]


class CallFilter(django_filters.FilterSet):
    phone = PhoneFilter(field_name="caller_phone")
    outcome = django_filters.MultipleChoiceFilter(choices=CallOutcome.choices)
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Call
        fields = ["phone", "outcome", "report"]
