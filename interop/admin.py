from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .accounts import open_account
from .models import (
    CapAlert,
    CapFeed,
    Handover,
    Open311Client,
    Open311Request,
    PeerCentre,
    ReceivedIncident,
    new_key,
)


@admin.register(CapFeed)
class CapFeedAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active", "last_polled_at", "last_ok_at", "last_error"]
    readonly_fields = ["last_polled_at", "last_ok_at", "last_error"]
    actions = ["poll_now"]

    @admin.action(description=_("Poll the selected feeds now"))
    def poll_now(self, request, queryset):
        """To try a feed just added, without waiting for the schedule."""
        for feed in queryset:
            result = services.poll_feed(feed)
            level = messages.WARNING if result.errors else messages.SUCCESS
            summary = ngettext(
                "%(feed)s: %(count)d new alert, %(shown)d for the city",
                "%(feed)s: %(count)d new alerts, %(shown)d for the city",
                result.stored,
            ) % {"feed": feed.name, "count": result.stored, "shown": result.shown}
            errors = f" — {result.errors[-1]}" if result.errors else ""
            self.message_user(request, summary + errors, level)


@admin.register(CapAlert)
class CapAlertAdmin(admin.ModelAdmin):
    list_display = ["event", "severity", "sender", "sent", "expires", "for_city", "cancelled_at"]
    list_filter = ["for_city", "severity", "feed"]
    search_fields = ["identifier", "event", "headline", "area_description"]

    def has_add_permission(self, request):
        return False  # alerts come from the feeds only

    def has_change_permission(self, request, obj=None):
        return False


# --- Open311 and EIDO partners (SPEC §10) ------------------------------------------------------


class SystemAdmin(admin.ModelAdmin):
    """A system with its service account (interop.accounts): opened with the system, its
    name kept the system's."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            open_account(obj)
            super().save_model(request, obj, form, change)


@admin.register(Open311Client)
class Open311ClientAdmin(SystemAdmin):
    list_display = ["name", "code", "active", "contact", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "code", "contact"]
    readonly_fields = ["api_key", "created_at"]
    actions = ["new_key"]

    def get_readonly_fields(self, request, obj=None):
        # The code names the app's service account: fixed once saved.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    @admin.action(description=_("Give the selected apps a new API key (the old one stops)"))
    def new_key(self, request, queryset):
        for client in queryset:
            client.api_key = new_key()
            client.save(update_fields=["api_key"])
        self.message_user(request, _("New keys issued: give each app its own."), messages.SUCCESS)


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ["report", "client", "created_at"]
    list_filter = ["client"]
    search_fields = ["report__number"]

    def has_add_permission(self, request):
        return False  # requests come from the apps only

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PeerCentre)
class PeerCentreAdmin(SystemAdmin):
    list_display = ["name", "code", "url", "active"]
    list_filter = ["active"]
    search_fields = ["name", "code", "url"]
    readonly_fields = ["inbound_token", "created_at"]
    fields = ["name", "code", "url", "token", "inbound_token", "active", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    list_display = ["report", "peer", "outcome", "peer_number", "actor", "sent_at", "error"]
    list_filter = ["outcome", "peer"]
    search_fields = ["report__number", "peer_number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReceivedIncident)
class ReceivedIncidentAdmin(admin.ModelAdmin):
    list_display = ["report", "peer", "incident_id", "received_at"]
    list_filter = ["peer"]
    search_fields = ["report__number", "incident_id"]
    exclude = ["document"]  # the callers of another centre: not browsed

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
