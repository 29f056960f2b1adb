"""Fills the centroids of Semarang's 16 kecamatan where a database seeded before they existed
has none (an administrator's own values are kept)."""

from decimal import Decimal

from django.db import migrations

from agencies.seed import KECAMATAN_CENTROIDS, kecamatan_code


def fill(apps, schema_editor):
    Kecamatan = apps.get_model("agencies", "Kecamatan")
    for name, (lat, lng) in KECAMATAN_CENTROIDS.items():
        Kecamatan.objects.filter(code=kecamatan_code(name), latitude__isnull=True).update(
            latitude=Decimal(str(lat)), longitude=Decimal(str(lng))
        )


class Migration(migrations.Migration):
    dependencies = [("agencies", "0002_units_and_field_officers")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
