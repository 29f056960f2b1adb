"""`manage.py load_sample_cap_warning`: shows the console's and the board's CAP banner without
an internet feed (issue 37 §11). A sample warning in BMKG's shape, labelled [CONTOH] and
valid for the next two hours, goes through the real parser and store, as a polled one would;
its feed is inactive, so nothing is ever fetched for it."""

from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from interop.cap import parse_alert
from interop.models import CapFeed
from interop.services import store_alert

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bmkg_sample.xml"
SAMPLE_FEED_URL = "https://contoh.invalid/peringatan-bmkg-sampel"


class Command(BaseCommand):
    help = "Loads a sample BMKG-style CAP warning (labelled [CONTOH]) valid for two hours."

    def handle(self, *args, **options):
        now = timezone.localtime().replace(microsecond=0)
        document = SAMPLE.read_text().format(
            identifier=f"CONTOH-{now:%Y%m%d%H%M%S}",
            sent=now.isoformat(),
            expires=(now + timedelta(hours=2)).isoformat(),
        )
        feed, _ = CapFeed.objects.get_or_create(
            url=SAMPLE_FEED_URL,
            defaults={"name": "Contoh peringatan BMKG (sampel, offline)", "active": False},
        )
        stored, _ = store_alert(feed, SAMPLE_FEED_URL, parse_alert(document))
        if stored is None or not stored.for_city:
            self.stderr.write("The sample warning was not stored for this city.")
            return
        until = timezone.localtime(stored.expires)
        self.stdout.write(f"Sample CAP warning [CONTOH] shown until {until:%H.%M} (WIB).")
