"""Who responds to what: agencies (OPD / instansi), incident categories with their default
routing, the city's kecamatan, and which agency a staff user belongs to. All of it is
configuration edited in the admin; no agency or category is named in code."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Priority(models.IntegerChoices):
    LIFE_THREATENING = 1, _("1 · life-threatening")
    URGENT = 2, _("2 · urgent")
    NON_URGENT = 3, _("3 · non-urgent")


class Agency(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40)
    response_target_seconds = models.PositiveIntegerField(
        _("response-time target (seconds)"),
        default=600,
        validators=[MinValueValidator(1)],
        help_text=_("From the call being received until the unit is on scene."),
    )
    active = models.BooleanField(_("active"), default=True)
    # SPEC §12: shown to the operators when no desk screen of the agency is online.
    phone = models.CharField(
        _("desk phone"),
        max_length=40,
        blank=True,
        help_text=_("The number the command centre calls when nobody is online at the desk."),
    )

    class Meta:
        ordering = ["short_name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.CheckConstraint(
                condition=Q(response_target_seconds__gt=0), name="agency_target_positive"
            )
        ]

    def __str__(self) -> str:
        return self.short_name


class Category(models.Model):
    """A kind of incident (jenis kejadian) and the agencies it is routed to by default."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    default_priority = models.PositiveSmallIntegerField(
        _("default priority"), choices=Priority.choices, default=Priority.URGENT
    )
    default_agencies = models.ManyToManyField(
        Agency,
        verbose_name=_("default agencies"),
        related_name="default_for_categories",
        blank=True,
        help_text=_("Every report of this category is sent to these agencies at once."),
    )
    active = models.BooleanField(_("active"), default=True)
    # Offered to city apps as an Open311 service (SPEC §10): a complaint a citizen may file
    # without calling 112.
    non_emergency = models.BooleanField(
        _("non-emergency (city apps may report it)"),
        default=False,
        help_text=_("Offered to city apps through Open311; reports of it are routed as usual."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=Q(default_priority__gte=1) & Q(default_priority__lte=3),
                name="category_priority_1_to_3",
            )
        ]

    def __str__(self) -> str:
        return self.name


def coordinate_field(verbose_name, limit: int) -> models.DecimalField:
    """An optional latitude (limit 90) or longitude (180), to the micro-degree (~11 cm)."""
    return models.DecimalField(
        verbose_name,
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-limit)), MaxValueValidator(Decimal(limit))],
    )


class Kecamatan(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80, unique=True)
    # Where a report with no coordinates, or a unit with no position yet, is taken to be
    # (units.recommend): the kecamatan's centre.
    latitude = coordinate_field(_("centroid latitude"), 90)
    longitude = coordinate_field(_("centroid longitude"), 180)

    class Meta:
        ordering = ["name"]
        verbose_name = _("kecamatan")
        verbose_name_plural = _("kecamatan")

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    AMBULANCE = "ambulance", _("ambulance")
    FIRE_ENGINE = "fire_engine", _("fire engine")
    RESCUE = "rescue", _("rescue")
    PATROL_CAR = "patrol_car", _("patrol car")
    MOTORBIKE = "motorbike", _("motorbike")
    TOW_TRUCK = "tow_truck", _("tow truck")
    CREW = "crew", _("crew")


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", _("available")
    # Sent by the desk, the crew has not yet tapped Berangkat (issue 37 §7): not yet moving.
    DISPATCHED = "dispatched", _("dispatched, not yet departed")
    EN_ROUTE = "en_route", _("en route")
    ON_SCENE = "on_scene", _("on scene")
    OUT_OF_SERVICE = "out_of_service", _("out of service")


CALL_SIGN_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,19}$"


class Unit(models.Model):
    """A unit in the field (armada / regu): an ambulance, a fire engine, a patrol car, a
    crew. Configuration (call sign, kind, home) is edited by admins and by the agency's own
    staff; `status` and the last position are kept by reports.services and units.services.

    It lives here, with the agencies, because reports.Assignment names the unit that serves
    it (one unit, one open assignment: a database constraint), and reports depends on this
    app, never on units/."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="units", verbose_name=_("agency")
    )
    call_sign = models.CharField(
        _("call sign"),
        max_length=20,
        validators=[RegexValidator(CALL_SIGN_PATTERN, _("Capital letters, digits and '-'."))],
        help_text=_("Unique within the agency, e.g. AMB-03."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    home_kecamatan = models.ForeignKey(
        Kecamatan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home kecamatan"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    position_at = models.DateTimeField(_("position recorded at"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["agency", "call_sign"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(fields=["agency", "call_sign"], name="unit_call_sign_unique"),
            models.CheckConstraint(
                condition=Q(status__in=UnitStatus.values), name="unit_status_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=UnitKind.values), name="unit_kind_valid"),
            models.CheckConstraint(
                condition=(
                    Q(latitude__isnull=True, longitude__isnull=True)
                    | Q(
                        latitude__gte=-90,
                        latitude__lte=90,
                        longitude__gte=-180,
                        longitude__lte=180,
                    )
                ),
                name="unit_position_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.call_sign


class MemberRole(models.TextChoices):
    STAFF = "staff", _("agency staff (desk)")
    FIELD = "field", _("field officer")


class AgencyMember(models.Model):
    """Makes a user agency staff (the desk: they see and act on their agency's assignments
    only) or one of its field officers (they see and act on the assignments of the unit
    they are signed on to, SPEC §7)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agency_membership",
        verbose_name=_("user"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="members", verbose_name=_("agency")
    )
    role = models.CharField(
        _("role"), max_length=8, choices=MemberRole.choices, default=MemberRole.STAFF
    )
    # The unit a field officer is signed on to for the shift (units.services.sign_on).
    unit = models.ForeignKey(
        Unit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crew",
        verbose_name=_("signed on to"),
    )
    signed_on_at = models.DateTimeField(_("signed on at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agency member")
        verbose_name_plural = _("agency members")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=MemberRole.values), name="member_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(role=MemberRole.FIELD) | Q(unit__isnull=True),
                name="member_only_field_officers_sign_on",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency}"


PRIORITY_VALIDATORS = [MinValueValidator(1), MaxValueValidator(3)]
