"""CAP feeds polled, alerts stored once, the city's shown live (SPEC §10).

`poll_feed` fetches a feed (a CAP document, or an RSS / Atom index whose items link to CAP
documents, as BMKG's nowcast rss.xml), reads each new alert with interop.cap and stores it
(`store_alert`). A document that is not valid CAP — malformed or hostile XML, a missing
required element — is logged and kept as the feed's last error, never shown. Only
`status` Actual alerts are shown (Test, Exercise, Draft and System are not for the public);
an Update or Cancel takes down the alerts it references."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import live
from .area import area_matches, city_points
from .cap import MAX_BYTES, Alert, CapError, Info, index_links, parse_alert
from .models import CapAlert, CapFeed

logger = logging.getLogger("interop.cap")

FETCH_TIMEOUT = 10
# An index longer than this is read over several polls, newest first as listed.
MAX_NEW_PER_POLL = 50


@dataclass
class PollResult:
    stored: int = 0
    shown: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)


def fetch(url: str) -> bytes:
    """GET with a timeout and a size limit; OSError on any failure."""
    if not url.startswith(("https://", "http://")):
        raise OSError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "Dispatch112-CAP/1"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
        body = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise OSError(f"larger than {MAX_BYTES} bytes")
    return body


def _info_shown(alert: Alert) -> Info | None:
    """The Indonesian <info> if there is one, else the first."""
    for info in alert.infos:
        if info.language.lower().startswith("id"):
            return info
    return alert.infos[0] if alert.infos else None


def store_alert(feed: CapFeed, url: str, alert: Alert, points=None) -> tuple[CapAlert | None, int]:
    """Stores one alert (a repeat changes nothing); returns (the stored alert or None, how
    many shown alerts it took down)."""
    with transaction.atomic():
        replaces = alert.status == "Actual" and alert.msg_type in ("Update", "Cancel")
        removed = _take_down(alert) if replaces else 0
        info = _info_shown(alert)
        if alert.status != "Actual" or alert.msg_type not in ("Alert", "Update") or info is None:
            logger.info("CAP %s from %s: %s %s, not shown", alert.identifier, url,
                        alert.status, alert.msg_type)  # fmt: skip
            return None, removed
        if CapAlert.objects.filter(sender=alert.sender, identifier=alert.identifier).exists():
            return None, removed
        points = city_points() if points is None else points
        try:
            with transaction.atomic():
                stored = CapAlert.objects.create(
                    feed=feed,
                    source_url=url[:500],
                    identifier=alert.identifier[:200],
                    sender=alert.sender[:200],
                    sent=alert.sent,
                    status=alert.status,
                    msg_type=alert.msg_type,
                    scope=alert.scope,
                    event=info.event[:200],
                    urgency=info.urgency,
                    severity=info.severity,
                    certainty=info.certainty,
                    sender_name=info.sender_name[:200],
                    headline=info.headline[:300],
                    description=info.description[:5000],
                    instruction=info.instruction[:5000],
                    web=info.web[:500] if info.web.startswith(("https://", "http://")) else "",
                    area_description="; ".join(a.description for a in info.areas)[:5000],
                    effective=info.effective,
                    onset=info.onset,
                    expires=info.expires,
                    for_city=any(area_matches(area, points) for area in info.areas),
                )
        except IntegrityError:  # stored by a concurrent poll
            return None, removed
        if stored.for_city and (stored.expires is None or stored.expires > timezone.now()):
            live.publish_alert_on_commit(stored)
        return stored, removed


def _take_down(alert: Alert) -> int:
    ids = []
    for sender, identifier in alert.references:
        ids += CapAlert.objects.filter(
            sender=sender, identifier=identifier, cancelled_at__isnull=True
        ).values_list("pk", flat=True)
    if not ids:
        return 0
    CapAlert.objects.filter(pk__in=ids).update(cancelled_at=timezone.now())
    live.publish_removed_on_commit(ids)
    return len(ids)


def _error(feed: CapFeed, result: PollResult, url: str, message: str) -> None:
    text = f"{url}: {message}"[:500]
    logger.warning("CAP feed %s: %s", feed.name, text)
    result.errors.append(text)


def poll_feed(feed: CapFeed, *, get=fetch) -> PollResult:
    result = PollResult()
    points = city_points()
    try:
        body = get(feed.url)
        links = index_links(body)
        documents = [(feed.url, body)] if links is None else []
        if links is not None:
            known = CapAlert.objects.filter(source_url__in=links)
            seen = set(known.values_list("source_url", flat=True))
            host = urlsplit(feed.url).netloc
            for link in [link for link in links if link not in seen][:MAX_NEW_PER_POLL]:
                if urlsplit(link).netloc != host:
                    # An index may only send us to its own server, not into our network.
                    _error(feed, result, link, "a link to another host, not followed")
                    continue
                try:
                    documents.append((link, get(link)))
                except OSError as error:
                    _error(feed, result, link, f"not fetched: {error}")
    except (OSError, CapError) as error:
        _error(feed, result, feed.url, str(error))
        documents = []
    for url, document in documents:
        try:
            alert = parse_alert(document)
        except CapError as error:
            _error(feed, result, url, str(error))
            continue
        stored, removed = store_alert(feed, url, alert, points)
        result.removed += removed
        if stored is not None:
            result.stored += 1
            result.shown += stored.for_city
    now = timezone.now()
    feed.last_polled_at = now
    if not result.errors:
        feed.last_ok_at = now
    feed.last_error = result.errors[-1] if result.errors else ""
    feed.save(update_fields=["last_polled_at", "last_ok_at", "last_error"])
    return result


def poll_all() -> dict[str, PollResult]:
    return {feed.name: poll_feed(feed) for feed in CapFeed.objects.filter(active=True)}


# --- Personal data (reports.retention) ------------------------------------------------------------


def erase_open311_before(cutoff, now) -> tuple[str, int]:
    """An Open311 submitter's e-mail and device ids are personal data like their number."""
    from .models import Open311Request

    erased = Open311Request.objects.filter(
        report__received_at__lt=cutoff, anonymised_at__isnull=True
    ).update(email="", device_id="", account_id="", anonymised_at=now)
    return "Open311 requests", erased


def erase_received_before(cutoff, now) -> tuple[str, int]:
    """An EIDO received holds the callers of the other centre: kept only as long."""
    from .models import ReceivedIncident

    erased = ReceivedIncident.objects.filter(
        report__received_at__lt=cutoff, anonymised_at__isnull=True
    ).update(document={}, anonymised_at=now)
    return "EIDO received", erased
