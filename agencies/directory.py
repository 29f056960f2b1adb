"""The city's configuration as the intake path reads it: every agency, every category with
its default routing, every kecamatan — loaded in three queries and kept in the process until
any of it changes, so that logging a call costs no query for what the admin edits a few
times a year.

Consistency across processes: a version string in the shared cache (Redis in production)
is read on each use (one round trip, no SQL; with the cache down, every use reads the
database); a save or delete of an agency, category,
routing or kecamatan gives it a new value at once and again when its transaction commits,
and every process reloads on its next use. A snapshot older than MAX_AGE is reloaded anyway,
which bounds what a change made behind the ORM's back (a raw UPDATE) can leave stale.

Only with a shared cache (DIRECTORY_CACHE, on with Redis): in the embedded mode a command
run beside the server (`seed_demo`, `loaddata`, a shell) could not tell the server's process
that it changed something, so there current() is None and callers query as they would
without it.

The instances in a snapshot are shared by every request of the process: read them, never
change or save them."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from core import shared_cache

from .models import Agency, Category, Kecamatan

VERSION_KEY = "agencies.directory.version"
MAX_AGE = 60.0  # seconds


@dataclass(frozen=True)
class Directory:
    version: str
    loaded_at: float
    agencies: dict[str, Agency]
    categories: dict[str, Category]
    kecamatan: dict[str, Kecamatan]
    # category pk → its active default agencies, ordered by code (agencies.routing)
    routing: dict[int, list[Agency]] = field(default_factory=dict)


_current: Directory | None = None
_lock = threading.Lock()


def current() -> Directory | None:
    """The configuration as of the latest change any process made; None without a shared
    cache (DIRECTORY_CACHE off), or with it down: ask the database."""
    global _current
    if not settings.DIRECTORY_CACHE:
        return None
    version = shared_cache.get(VERSION_KEY)
    if version is None:  # first use, or the cache was emptied: start a version
        shared_cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = shared_cache.get(VERSION_KEY)
    if version is None:  # the shared cache is down: no way to know, ask the database
        return None
    snapshot = _current
    if (
        snapshot is None
        or snapshot.version != version
        or time.monotonic() - snapshot.loaded_at > MAX_AGE
    ):
        with _lock:
            snapshot = _current = _load(version)
    return snapshot


def _load(version: str) -> Directory:
    agencies = {a.code: a for a in Agency.objects.all()}
    by_pk = {a.pk: a for a in agencies.values()}
    routing: dict[int, list[Agency]] = {}
    for category_id, agency_id in Category.default_agencies.through.objects.values_list(
        "category_id", "agency_id"
    ):
        agency = by_pk.get(agency_id)
        if agency is not None and agency.active:
            routing.setdefault(category_id, []).append(agency)
    for routed in routing.values():
        routed.sort(key=lambda a: a.code)
    return Directory(
        version=version,
        loaded_at=time.monotonic(),
        agencies=agencies,
        categories={c.code: c for c in Category.objects.all()},
        kecamatan={k.code: k for k in Kecamatan.objects.all()},
        routing=routing,
    )


def changed() -> None:
    """Something in the configuration changed: every process reloads on its next use. Said
    now (this process, inside the transaction) and again once the transaction commits, so
    that a process that reloaded in between does not keep what it read before the commit."""
    _new_version()
    transaction.on_commit(_new_version, robust=True)


def _new_version() -> None:
    global _current
    shared_cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    _current = None


def forget() -> None:
    """Drops this process's snapshot and the shared version (tests: a rolled-back
    transaction's configuration must not outlive it)."""
    global _current
    shared_cache.delete(VERSION_KEY)
    _current = None


def _on_change(sender, **kwargs) -> None:
    changed()


for _model in (Agency, Category, Kecamatan):
    post_save.connect(_on_change, sender=_model, dispatch_uid=f"directory-save-{_model.__name__}")
    post_delete.connect(
        _on_change, sender=_model, dispatch_uid=f"directory-delete-{_model.__name__}"
    )
m2m_changed.connect(
    _on_change, sender=Category.default_agencies.through, dispatch_uid="directory-routing"
)
