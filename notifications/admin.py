"""The devices that get Web Push (SPEC §12): read-only, except that an administrator may take
one off — a phone that was lost, or handed to someone else."""

from django.contrib import admin

from .models import PushSubscription


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "device", "created_at", "last_success_at"]
    search_fields = ["user__username", "device"]
    list_select_related = ["user"]
    readonly_fields = ["user", "endpoint", "device", "created_at", "last_success_at"]
    # The browser's keys are not shown: they are its, for decrypting what it is sent.
    exclude = ["p256dh", "auth"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
