from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import CapAlert, CapFeed


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
