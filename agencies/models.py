"""Who responds to what: agencies (OPD / instansi), incident categories with their default
routing, the city's kecamatan, and which agency a staff user belongs to. All of it is
configuration edited in the admin; no agency or category is named in code."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
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


class Kecamatan(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("kecamatan")
        verbose_name_plural = _("kecamatan")

    def __str__(self) -> str:
        return self.name


class AgencyMember(models.Model):
    """Makes a user agency staff: they see and act on their agency's assignments only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agency_membership",
        verbose_name=_("user"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="members", verbose_name=_("agency")
    )

    class Meta:
        verbose_name = _("agency member")
        verbose_name_plural = _("agency members")

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency}"


PRIORITY_VALIDATORS = [MinValueValidator(1), MaxValueValidator(3)]
