from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Agency, AgencyMember, Category, Kecamatan, Unit


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "short_name", "name", "phone", "response_target_seconds", "active"]
    list_filter = ["active"]
    list_editable = ["response_target_seconds", "active"]
    search_fields = ["code", "name", "short_name"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "default_priority", "routing", "non_emergency", "active"]
    list_filter = ["active", "non_emergency", "default_priority", "default_agencies"]
    search_fields = ["code", "name"]
    filter_horizontal = ["default_agencies"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("default_agencies")

    @admin.display(description=_("routing"))
    def routing(self, obj: Category) -> str:
        return ", ".join(a.short_name for a in obj.default_agencies.all()) or "—"


@admin.register(Kecamatan)
class KecamatanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "latitude", "longitude"]
    search_fields = ["code", "name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = [
        "call_sign",
        "agency",
        "kind",
        "home_kecamatan",
        "status",
        "position_at",
        "active",
    ]
    list_filter = ["agency", "kind", "status", "active"]
    search_fields = ["call_sign"]
    # Status and position follow the assignments and the crews' phones (units.services).
    readonly_fields = ["status", "latitude", "longitude", "accuracy_m", "position_at"]


class AgencyMemberInline(admin.StackedInline):
    model = AgencyMember
    can_delete = True
    max_num = 1
    verbose_name = _("agency (staff and field officers only)")
    fields = ["agency", "role"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class DispatchUserAdmin(UserAdmin):
    inlines = [AgencyMemberInline]
    list_display = ["username", "first_name", "last_name", "agency", "is_active", "is_staff"]
    list_filter = [*UserAdmin.list_filter, "agency_membership__agency"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agency_membership__agency")

    @admin.display(description=_("agency"))
    def agency(self, obj) -> str:
        membership = getattr(obj, "agency_membership", None)
        return membership.agency.short_name if membership else "—"


admin.site.site_header = _("Dispatch 112 administration")
admin.site.site_title = _("Dispatch 112")
