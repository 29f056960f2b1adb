"""The demo city's configuration: SPEC §3, Semarang. `seed_demo` loads exactly this.

Each kind of configuration (agencies, categories with routing, kecamatan) is loaded only
into an empty table: a re-run (every `make run` does one) never brings back what an
administrator deleted, renamed or re-routed in the admin."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from . import directory
from .models import Agency, AgencyMember, Category, Kecamatan
from .roles import OPERATOR_GROUP, SUPERVISOR_GROUP

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


# The routing table of SPEC §3: category code → default agencies, in that order.
CATEGORIES: dict[str, CategorySeed] = {
    "kemacetan": CategorySeed("Kemacetan lalu lintas", 3, ("dishub", "polrestabes")),
    "kecelakaan": CategorySeed("Kecelakaan lalu lintas", 1, ("polrestabes", "ambulans", "dishub")),
    "kebakaran": CategorySeed("Kebakaran", 1, ("damkar",)),
    "darurat_medis": CategorySeed("Kegawatdaruratan medis", 1, ("ambulans",)),
    "ambulans": CategorySeed("Permintaan ambulans", 1, ("ambulans",)),
    "kriminal": CategorySeed("Tindak kriminal", 1, ("polrestabes",)),
    "bencana": CategorySeed("Bencana alam", 1, ("bpbd",)),
    "banjir": CategorySeed("Banjir", 2, ("bpbd", "dpu")),
    "pohon_tumbang": CategorySeed("Pohon tumbang", 2, ("bpbd", "dpu")),
    "pju_padam": CategorySeed("Lampu penerangan jalan padam", 3, ("dpu",)),
    "kamtibmas": CategorySeed("Keamanan dan ketertiban masyarakat", 2, ("satpolpp", "polrestabes")),
    "evakuasi_hewan": CategorySeed("Evakuasi hewan liar", 2, ("damkar",)),
    "korsleting": CategorySeed("Korsleting listrik", 2, ("damkar", "pln")),
    "penemuan_mayat": CategorySeed("Penemuan mayat", 2, ("polrestabes", "ambulans")),
    "narkoba": CategorySeed("Narkoba", 2, ("polrestabes",)),
    "lainnya": CategorySeed("Lainnya", 3, ()),
}

KECAMATAN: tuple[str, ...] = (
    "Banyumanik",
    "Candisari",
    "Gajahmungkur",
    "Gayamsari",
    "Genuk",
    "Gunungpati",
    "Mijen",
    "Ngaliyan",
    "Pedurungan",
    "Semarang Barat",
    "Semarang Selatan",
    "Semarang Tengah",
    "Semarang Timur",
    "Semarang Utara",
    "Tembalang",
    "Tugu",
)


def kecamatan_code(name: str) -> str:
    return name.lower().replace(" ", "_")


@dataclass
class SeedResult:
    agencies: int = 0
    categories: int = 0
    kecamatan: int = 0


@transaction.atomic
def seed_configuration() -> SeedResult:
    """Loads agencies, categories (with their routing) and kecamatan, each only into an
    empty table. Returns how many rows of each were created."""
    result = SeedResult()
    if not Agency.objects.exists():
        Agency.objects.bulk_create(
            Agency(code=code, name=name, short_name=short_name)
            for code, (name, short_name) in AGENCIES.items()
        )
        result.agencies = len(AGENCIES)
    if not Category.objects.exists():
        agencies = {a.code: a for a in Agency.objects.all()}
        for code, seed in CATEGORIES.items():
            category = Category.objects.create(
                code=code, name=seed.name, default_priority=seed.priority
            )
            category.default_agencies.set([agencies[a] for a in seed.agencies if a in agencies])
        result.categories = len(CATEGORIES)
    if not Kecamatan.objects.exists():
        Kecamatan.objects.bulk_create(
            Kecamatan(code=kecamatan_code(name), name=name) for name in KECAMATAN
        )
        result.kecamatan = len(KECAMATAN)
    directory.changed()  # bulk_create sends no post_save
    return result


def demo_usernames() -> list[str]:
    """The demo accounts' usernames (the deploy check refuses them in production)."""
    return ["operator", "supervisor", *AGENCIES]


@transaction.atomic
def seed_demo_users() -> int:
    """Creates the demo users (password `demo112`): operator, supervisor, one per agency."""
    User = get_user_model()
    operators, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    supervisors, _ = Group.objects.get_or_create(name=SUPERVISOR_GROUP)
    created_count = 0

    def make(username: str, first_name: str) -> tuple[object, bool]:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user, created

    user, created = make("operator", "Operator")
    user.groups.add(operators)
    created_count += created
    user, created = make("supervisor", "Supervisor")
    user.groups.add(supervisors)
    created_count += created
    for agency in Agency.objects.filter(code__in=AGENCIES):
        user, created = make(agency.code, f"Petugas {agency.short_name}")
        AgencyMember.objects.get_or_create(user=user, defaults={"agency": agency})
        created_count += created
    return created_count
