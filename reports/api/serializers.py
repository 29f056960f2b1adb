"""API shapes. Input serializers only check types and sizes; every business rule is in
reports.services, whose field errors reach the client as 400s."""

from rest_framework import serializers

from core.fields import AwareDateTime, Text
from reports.access import caller_fields
from reports.models import (
    Assignment,
    Call,
    CallOutcome,
    CloseReason,
    Event,
    LocationSource,
    Message,
    Report,
)
from reports.privacy import shown

SLUG = {"slug_field": "code", "read_only": True}


class AssignmentSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(**SLUG)
    report_number = serializers.CharField(source="report.number", read_only=True)
    seen_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True,
        help_text="Who of the agency first had the card on screen (SPEC §12).",
    )  # fmt: skip
    unit_id = serializers.IntegerField(
        source="unit_ref_id", read_only=True, allow_null=True,
        help_text="The fleet unit serving it (agencies with units); `unit` is its call sign.",
    )  # fmt: skip

    class Meta:
        model = Assignment
        fields = [
            "id",
            "report",
            "report_number",
            "agency",
            "status",
            "notified_at",
            "acknowledged_at",
            "dispatched_at",
            "eta_minutes",
            "unit",
            "unit_id",
            "departed_at",
            "arrived_at",
            "arrival_distance_m",
            "arrival_synced_late",
            "resolved_at",
            "resolution_note",
            "rejected_at",
            "reject_reason",
            "cancelled_at",
            "cancel_reason",
            "escalated_at",
            "overdue_at",
            "delivered_at",
            "seen_at",
            "seen_by",
            "unheard_at",
        ]
        read_only_fields = fields


class ReportSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(**SLUG)
    category_name = serializers.CharField(source="category.name", read_only=True)
    kecamatan = serializers.SlugRelatedField(**SLUG)
    kecamatan_name = serializers.CharField(source="kecamatan.name", read_only=True, default=None)
    operator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    assignments = AssignmentSerializer(many=True, read_only=True)
    caller_phone_masked = serializers.SerializerMethodField(
        help_text="True when caller_phone is masked (agency staff outside a report's detail)."
    )
    caller_withheld = serializers.SerializerMethodField(
        help_text="True when the caller's name and number are withheld: the viewer's agency "
        "left this report (rejected or cancelled)."
    )

    class Meta:
        model = Report
        fields = [
            "id",
            "number",
            "caller_name",
            "caller_phone",
            "caller_phone_masked",
            "caller_withheld",
            "category",
            "category_name",
            "priority",
            "description",
            "address",
            "kecamatan",
            "kecamatan_name",
            "latitude",
            "longitude",
            "location_source",
            "location_accuracy_m",
            "received_at",
            "operator",
            "status",
            "close_reason",
            "close_note",
            "public_note",
            "duplicate_of",
            "closed_at",
            "source",
            "origin",
            "assignments",
        ]
        read_only_fields = fields

    def get_caller_phone_masked(self, report) -> bool:
        return False  # set by to_representation

    def get_caller_withheld(self, report) -> bool:
        return False  # set by to_representation

    def to_representation(self, instance):
        """Context: the `viewer` (reports.privacy.serializer_context), whose caller fields
        reports.access decides; without one (live payloads, masked later per audience), the
        caller in full."""
        data = super().to_representation(instance)
        if (viewer := self.context.get("viewer")) is None:
            return data
        fields = caller_fields(viewer, instance, detail=self.context.get("detail", False))
        return shown(data, fields)


class ReportCreateSerializer(serializers.Serializer):
    caller_phone = Text(max_length=40)
    caller_name = Text(max_length=120, required=False, allow_blank=True)
    category = Text(max_length=32)
    description = Text(max_length=4000)
    address = Text(max_length=300)
    kecamatan = Text(max_length=40, required=False, allow_blank=True, allow_null=True)
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(
        required=False, allow_null=True, min_value=-180, max_value=180
    )
    priority = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3)
    agencies = serializers.ListField(
        child=Text(max_length=32),
        required=False,
        allow_null=True,
        max_length=20,
        help_text="Agency codes; replaces the category's default routing.",
    )
    received_at = AwareDateTime(required=False, allow_null=True)
    location_source = serializers.ChoiceField(
        choices=LocationSource.choices, required=False, allow_blank=True,
        help_text="Where the pin came from: operator (default with a pin) or aml (the "
        "caller's handset, SPEC §9).",
    )  # fmt: skip
    location_accuracy_m = serializers.FloatField(
        required=False, allow_null=True, min_value=0, max_value=100000
    )


class ReportCloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[c for c in CloseReason.choices if c[0] != CloseReason.HANDED_OVER],
        help_text="A report is handed to another centre with POST …/handover/ instead.",
    )
    note = Text(max_length=2000, required=False, allow_blank=True)
    public_note = Text(
        max_length=500, required=False, allow_blank=True,
        help_text="For the public: city apps show it (Open311 status_notes); `note` never.",
    )  # fmt: skip
    duplicate_of = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class CallSerializer(serializers.ModelSerializer):
    operator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    report_number = serializers.CharField(source="report.number", read_only=True, default=None)

    class Meta:
        model = Call
        fields = [
            "id",
            "caller_phone",
            "caller_name",
            "received_at",
            "operator",
            "outcome",
            "report",
            "report_number",
            "note",
            "caller_latitude",
            "caller_longitude",
            "caller_accuracy_m",
            "caller_location_source",
            "caller_located_at",
        ]
        read_only_fields = fields


class CallCreateSerializer(serializers.Serializer):
    caller_phone = Text(max_length=40)
    caller_name = Text(max_length=120, required=False, allow_blank=True)
    outcome = serializers.ChoiceField(
        choices=[c for c in CallOutcome.choices if c[0] != CallOutcome.REPORT]
    )
    note = Text(max_length=2000, required=False, allow_blank=True)
    report = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    received_at = AwareDateTime(required=False, allow_null=True)


class PhoneHistorySerializer(serializers.Serializer):
    phone = serializers.CharField()
    calls_total = serializers.IntegerField()
    prank_count = serializers.IntegerField(help_text="Prank and ghost calls within the window.")
    flagged = serializers.BooleanField(help_text="A repeat prank number: warn the operator.")
    calls = CallSerializer(many=True)
    open_reports = ReportSerializer(many=True)


class DispatchSerializer(serializers.Serializer):
    eta_minutes = serializers.IntegerField(
        min_value=0, max_value=1440, required=False, allow_null=True,
        help_text="Defaults to the travel estimate for a fleet unit; required otherwise.",
    )  # fmt: skip
    unit = Text(
        max_length=80, required=False, allow_blank=True,
        help_text="A call sign of the agency's units (free text for an agency without units).",
    )  # fmt: skip
    divert = serializers.BooleanField(
        required=False, default=False,
        help_text="Send a unit that is busy: it leaves the assignment it serves.",
    )  # fmt: skip


class FieldStepSerializer(serializers.Serializer):
    """What a field officer's phone sends with a step (SPEC §7); all optional."""

    occurred_at = AwareDateTime(
        required=False, allow_null=True, help_text="When it was tapped (queued offline)."
    )
    latitude = serializers.FloatField(required=False, allow_null=True)
    longitude = serializers.FloatField(required=False, allow_null=True)
    accuracy_m = serializers.FloatField(required=False, allow_null=True)


class RejectSerializer(serializers.Serializer):
    reason = Text(max_length=2000)


class ResolveSerializer(FieldStepSerializer):
    note = Text(max_length=2000, required=False, allow_blank=True)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    author_agency = serializers.SlugRelatedField(**SLUG)
    body = Text(max_length=2000)

    class Meta:
        model = Message
        fields = ["id", "report", "author", "author_agency", "body", "created_at"]
        read_only_fields = ["id", "report", "author", "author_agency", "created_at"]


class ReportEditSerializer(serializers.Serializer):
    """PATCH /reports/{id}/ (SPEC §11): only the fields sent are changed."""

    description = Text(max_length=4000, required=False)
    address = Text(max_length=300, required=False)
    kecamatan = Text(max_length=40, required=False, allow_blank=True, allow_null=True)
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(
        required=False, allow_null=True, min_value=-180, max_value=180
    )
    priority = serializers.IntegerField(required=False, min_value=1, max_value=3)


class AssignmentAddSerializer(serializers.Serializer):
    agency = Text(max_length=32, help_text="The agency's code.")
    note = Text(max_length=2000, required=False, allow_blank=True)


class CancelSerializer(serializers.Serializer):
    reason = Text(max_length=2000, help_text="What the agency is told.")


class EventSerializer(serializers.ModelSerializer):
    """One line of a report's timeline. `data` never holds a caller's name or number."""

    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    actor_name = serializers.SerializerMethodField()
    agency = serializers.CharField(source="assignment.agency.code", read_only=True, default=None)

    class Meta:
        model = Event
        fields = ["id", "kind", "created_at", "actor", "actor_name", "assignment", "agency", "data"]
        read_only_fields = fields

    def get_actor_name(self, event) -> str | None:
        if event.actor is None:
            return None
        return event.actor.get_full_name() or event.actor.get_username()
