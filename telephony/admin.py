from django.contrib import admin

from .models import AmlMessage, Extension, PhoneCall


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
    list_display = ["number", "operator"]
    search_fields = ["number", "operator__username"]
    autocomplete_fields = ["operator"]


@admin.register(PhoneCall)
class PhoneCallAdmin(admin.ModelAdmin):
    """Read only: the PBX writes these."""

    list_display = ["call_id", "state", "extension", "operator", "ringing_at", "answered_at"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in PhoneCall._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AmlMessage)
class AmlMessageAdmin(admin.ModelAdmin):
    """Read only: personal data (the caller's position), erased by anonymise_callers."""

    list_display = ["received_at", "format", "status", "error_field", "accuracy_m", "call"]
    list_filter = ["status", "format"]
    readonly_fields = [f.name for f in AmlMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
