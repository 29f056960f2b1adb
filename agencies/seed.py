"""The demo city's configuration: SPEC §3, Semarang. `seed_demo` loads exactly this.

Each kind of configuration (agencies, categories with routing, kecamatan) is loaded only
into an empty table: a re-run (every `make run` does one) never brings back what an
administrator deleted, renamed or re-routed in the admin."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from . import directory
from .models import Agency, AgencyMember, Category, Kecamatan, MemberRole, Unit, UnitKind
from .roles import OPERATOR_GROUP, SUPERVISOR_GROUP, TELEPHONY_GROUP

DEMO_PASSWORD = "demo112"

# code: (name, short name)
AGENCIES: dict[str, tuple[str, str]] = {
    "dishub": ("Dinas Perhubungan", "Dishub"),
    "polrestabes": ("Kepolisian Resor Kota Besar", "Polrestabes"),
    "bpbd": ("Badan Penanggulangan Bencana Daerah", "BPBD"),
    "damkar": ("Dinas Pemadam Kebakaran", "Damkar"),
    "dpu": ("Dinas Pekerjaan Umum", "DPU"),
    "ambulans": ("Ambulans Hebat (Dinas Kesehatan)", "Ambulans Hebat"),
    "satpolpp": ("Satuan Polisi Pamong Praja", "Satpol PP"),
    "pln": ("Perusahaan Listrik Negara", "PLN"),
    "basarnas": ("Badan Nasional Pencarian dan Pertolongan", "Basarnas"),
}


@dataclass(frozen=True)
class CategorySeed:
    name: str
    priority: int
    agencies: tuple[str, ...]
    non_emergency: bool = False  # offered to city apps (Open311, SPEC §10)


# The routing table of SPEC §3: category code → default agencies, in that order.
CATEGORIES: dict[str, CategorySeed] = {
    "kemacetan": CategorySeed("Kemacetan lalu lintas", 3, ("dishub", "polrestabes"), True),
    "kecelakaan": CategorySeed("Kecelakaan lalu lintas", 1, ("polrestabes", "ambulans", "dishub")),
    "kebakaran": CategorySeed("Kebakaran", 1, ("damkar",)),
    "darurat_medis": CategorySeed("Kegawatdaruratan medis", 1, ("ambulans",)),
    "ambulans": CategorySeed("Permintaan ambulans", 1, ("ambulans",)),
    "kriminal": CategorySeed("Tindak kriminal", 1, ("polrestabes",)),
    "bencana": CategorySeed("Bencana alam", 1, ("bpbd",)),
    "banjir": CategorySeed("Banjir", 2, ("bpbd", "dpu")),
    "pohon_tumbang": CategorySeed("Pohon tumbang", 2, ("bpbd", "dpu"), True),
    "pju_padam": CategorySeed("Lampu penerangan jalan padam", 3, ("dpu",), True),
    "kamtibmas": CategorySeed("Keamanan dan ketertiban masyarakat", 2, ("satpolpp", "polrestabes")),
    "evakuasi_hewan": CategorySeed("Evakuasi hewan liar", 2, ("damkar",)),
    "korsleting": CategorySeed("Korsleting listrik", 2, ("damkar", "pln")),
    "penemuan_mayat": CategorySeed("Penemuan mayat", 2, ("polrestabes", "ambulans")),
    "narkoba": CategorySeed("Narkoba", 2, ("polrestabes",)),
    "lainnya": CategorySeed("Lainnya", 3, ()),
}

# name: approximate centre (latitude, longitude), for travel-time estimates when a report or
# a unit has no coordinates of its own (units.recommend). Administrators refine them.
KECAMATAN_CENTROIDS: dict[str, tuple[float, float]] = {
    "Banyumanik": (-7.0640, 110.4190),
    "Candisari": (-7.0090, 110.4290),
    "Gajahmungkur": (-7.0140, 110.4070),
    "Gayamsari": (-6.9920, 110.4500),
    "Genuk": (-6.9600, 110.4800),
    "Gunungpati": (-7.0900, 110.3700),
    "Mijen": (-7.0550, 110.3100),
    "Ngaliyan": (-7.0000, 110.3450),
    "Pedurungan": (-7.0000, 110.4800),
    "Semarang Barat": (-6.9780, 110.3900),
    "Semarang Selatan": (-6.9990, 110.4220),
    "Semarang Tengah": (-6.9800, 110.4160),
    "Semarang Timur": (-6.9760, 110.4370),
    "Semarang Utara": (-6.9600, 110.4150),
    "Tembalang": (-7.0550, 110.4450),
    "Tugu": (-6.9850, 110.3100),
}
KECAMATAN: tuple[str, ...] = tuple(KECAMATAN_CENTROIDS)


def kecamatan_code(name: str) -> str:
    return name.lower().replace(" ", "_")


@dataclass
class SeedResult:
    agencies: int = 0
    categories: int = 0
    kecamatan: int = 0


# The demo city's desk numbers: fictional (no Semarang number starts 0000).
DEMO_PHONES = {code: f"024-0000-01{n:02d}" for n, code in enumerate(AGENCIES, start=1)}


@transaction.atomic
def seed_configuration() -> SeedResult:
    """Loads agencies, categories (with their routing) and kecamatan, each only into an
    empty table. Returns how many rows of each were created."""
    result = SeedResult()
    if not Agency.objects.exists():
        Agency.objects.bulk_create(
            Agency(code=code, name=name, short_name=short_name, phone=DEMO_PHONES[code])
            for code, (name, short_name) in AGENCIES.items()
        )
        result.agencies = len(AGENCIES)
    if not Category.objects.exists():
        agencies = {a.code: a for a in Agency.objects.all()}
        for code, seed in CATEGORIES.items():
            category = Category.objects.create(
                code=code,
                name=seed.name,
                default_priority=seed.priority,
                non_emergency=seed.non_emergency,
            )
            category.default_agencies.set([agencies[a] for a in seed.agencies if a in agencies])
        result.categories = len(CATEGORIES)
    if not Kecamatan.objects.exists():
        Kecamatan.objects.bulk_create(
            Kecamatan(code=kecamatan_code(name), name=name, latitude=lat, longitude=lng)
            for name, (lat, lng) in KECAMATAN_CENTROIDS.items()
        )
        result.kecamatan = len(KECAMATAN)
    directory.changed()  # bulk_create sends no post_save
    return result


# The demo fleet: agency → (call-sign prefix, kind, how many), placed in turn at these homes.
FLEET: dict[str, tuple[tuple[str, str, int], ...]] = {
    "ambulans": (("AMB", UnitKind.AMBULANCE, 6),),
    "damkar": (("DMK", UnitKind.FIRE_ENGINE, 4), ("DMK-R", UnitKind.RESCUE, 1)),
    "polrestabes": (("POL", UnitKind.PATROL_CAR, 6), ("POL-M", UnitKind.MOTORBIKE, 2)),
    "dishub": (("DSH", UnitKind.PATROL_CAR, 3), ("DSH-D", UnitKind.TOW_TRUCK, 2)),
    "bpbd": (("BPB", UnitKind.RESCUE, 3),),
    "dpu": (("DPU", UnitKind.CREW, 3),),
    "satpolpp": (("SPP", UnitKind.PATROL_CAR, 3),),
    "pln": (("PLN", UnitKind.CREW, 2),),
    "basarnas": (("SAR", UnitKind.RESCUE, 2),),
}
FLEET_HOMES = (
    "semarang_tengah", "banyumanik", "pedurungan", "semarang_barat", "tembalang", "genuk",
    "ngaliyan", "semarang_utara", "gajahmungkur", "mijen", "gunungpati", "tugu",
)  # fmt: skip


def field_username(agency_code: str) -> str:
    return f"{agency_code}-lapangan"


@transaction.atomic
def seed_demo_units() -> int:
    """The demo fleet (FLEET), each unit at its home kecamatan's centre, only into an empty
    table. Returns how many units were created."""
    if Unit.objects.exists():
        return 0
    homes = {k.code: k for k in Kecamatan.objects.filter(code__in=FLEET_HOMES)}
    units = []
    for agency in Agency.objects.filter(code__in=FLEET):
        turn = 0
        for prefix, kind, count in FLEET[agency.code]:
            for number in range(1, count + 1):
                home = homes.get(FLEET_HOMES[turn % len(FLEET_HOMES)])
                turn += 1
                units.append(
                    Unit(
                        agency=agency,
                        # AMB-01…; a second kind of the agency: DMK-R1, POL-M2
                        call_sign=f"{prefix}{number}"
                        if "-" in prefix
                        else f"{prefix}-{number:02d}",
                        kind=kind,
                        home_kecamatan=home,
                    )
                )
    Unit.objects.bulk_create(units)
    return len(units)


def demo_usernames() -> list[str]:
    """The demo accounts' usernames (the deploy check refuses them in production)."""
    return ["operator", "supervisor", "telephony", *AGENCIES, *map(field_username, AGENCIES)]


@transaction.atomic
def seed_demo_users() -> int:
    """Creates the demo users (password `demo112`): operator, supervisor, one per agency."""
    User = get_user_model()
    operators, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    supervisors, _ = Group.objects.get_or_create(name=SUPERVISOR_GROUP)
    created_count = 0
    # One hash for all: they share one public password, and a strong hasher takes a quarter
    # of a second per call (twenty users were five seconds of every demo seed).
    password = make_password(DEMO_PASSWORD)

    def make(username: str, first_name: str) -> tuple[object, bool]:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "password": password}
        )
        return user, created

    user, created = make("operator", "Operator")
    user.groups.add(operators)
    created_count += created
    user, created = make("supervisor", "Supervisor")
    user.groups.add(supervisors)
    created_count += created
    # The phone system's service account (SPEC §9): the PBX and the AML gateway post with
    # its token.
    user, created = make("telephony", "PBX")
    user.groups.add(Group.objects.get_or_create(name=TELEPHONY_GROUP)[0])
    created_count += created
    for agency in Agency.objects.filter(code__in=AGENCIES):
        user, created = make(agency.code, f"Petugas {agency.short_name}")
        AgencyMember.objects.get_or_create(user=user, defaults={"agency": agency})
        created_count += created
        user, created = make(field_username(agency.code), f"Petugas lapangan {agency.short_name}")
        AgencyMember.objects.get_or_create(
            user=user, defaults={"agency": agency, "role": MemberRole.FIELD}
        )
        created_count += created
    return created_count
