from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0009_report_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="public_note",
            field=models.TextField(
                blank=True,
                help_text="Shown to city apps (Open311) once the report is closed.",
                max_length=500,
                verbose_name="note for the public",
            ),
        ),
    ]
