"""Admin views of operational data. Changes go through the console and API (the services);
here they are read-only so nobody bypasses the state machine or rewrites the event log."""

from django.contrib import admin

from .models import Assignment, Call, Event, Message, PersonalDataAccess, Report


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fields = ["agency", "status", "notified_at", "acknowledged_at", "arrived_at", "resolved_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["number", "category", "priority", "kecamatan", "status", "received_at"]
    list_filter = ["status", "priority", "category", "kecamatan"]
    search_fields = ["number", "caller_phone", "caller_name", "address"]
    date_hierarchy = "received_at"
    inlines = [AssignmentInline]
    list_select_related = ["category", "kecamatan"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["report", "agency", "status", "notified_at", "escalated_at"]
    list_filter = ["status", "agency"]
    search_fields = ["report__number"]
    list_select_related = ["report", "agency"]


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["caller_phone", "caller_name", "outcome", "received_at", "operator"]
    list_filter = ["outcome"]
    search_fields = ["caller_phone", "caller_name"]
    date_hierarchy = "received_at"


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "report", "assignment", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["report__number"]
    list_select_related = ["report", "actor"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["report", "author", "author_agency", "created_at"]
    search_fields = ["report__number", "body"]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ["accessed_at", "user", "report", "field"]
    list_filter = ["field"]
    search_fields = ["report__number", "user__username"]
    date_hierarchy = "accessed_at"
    list_select_related = ["report", "user"]
