"""Configuration (SPEC §4): agencies, categories with their routing, kecamatan. Read-only, for
every role."""

import pytest

from agencies.models import Agency, Category
from tests.test_seed import SPEC_AGENCIES, SPEC_KECAMATAN, SPEC_ROUTING

from .helpers import expect

URLS = ["/api/v1/agencies/", "/api/v1/categories/", "/api/v1/kecamatan/"]
READ = expect(
    {
        "anonymous": 401,
        "inactive": 401,
        "no_role": 403,
        "operator": 200,
        "supervisor": 200,
        "assigned_staff": 200,
        "other_staff": 200,
    }
)


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(("role", "status"), READ)
def test_each_role_reads_the_configuration(client_as, url, role, status):
    response = client_as(role).get(url)
    assert response.status_code == status
    if status == 200:
        assert isinstance(response.json(), list)  # unpaginated: a picker needs all of them
        assert response.json()


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_configuration_is_read_only_over_the_api(api, city, url, method):
    before = (Agency.objects.count(), Category.objects.count())
    target = url if method == "post" else f"{url}{_first_code(url)}/"
    response = getattr(api, method)(target, {"code": "x", "name": "X"})
    assert response.status_code == 405
    assert (Agency.objects.count(), Category.objects.count()) == before


def _first_code(url):
    return {"agencies": "dishub", "categories": "kebakaran", "kecamatan": "tugu"}[
        url.strip("/").rsplit("/", 1)[-1]
    ]


def test_agencies_are_the_seeded_ones(api, city):
    agencies = api.get("/api/v1/agencies/").json()
    assert {a["code"] for a in agencies} == SPEC_AGENCIES
    assert len(agencies) == len(SPEC_AGENCIES)
    dishub = next(a for a in agencies if a["code"] == "dishub")
    assert set(dishub) == {
        "code", "name", "short_name", "response_target_seconds", "active", "phone"
    }  # fmt: skip
    assert dishub["response_target_seconds"] == 600
    assert dishub["active"] is True


def test_an_agency_is_found_by_its_code(api, city):
    response = api.get("/api/v1/agencies/damkar/")
    assert response.status_code == 200
    assert response.json()["code"] == "damkar"
    assert api.get("/api/v1/agencies/nope/").status_code == 404


def test_categories_carry_the_spec_routing(api, city):
    categories = api.get("/api/v1/categories/").json()
    routing = {c["code"]: c["agencies"] for c in categories}
    assert set(routing) == set(SPEC_ROUTING)
    for code, agencies in routing.items():
        assert len(agencies) == len(set(agencies)), code
        assert set(agencies) == SPEC_ROUTING[code], code


def test_the_accident_category_goes_to_police_ambulance_and_traffic(api, city):
    response = api.get("/api/v1/categories/kecelakaan/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "name", "default_priority", "agencies", "active"}
    assert set(body["agencies"]) == {"polrestabes", "ambulans", "dishub"}
    assert body["default_priority"] in (1, 2, 3)


def test_the_other_category_routes_nowhere(api, city):
    assert api.get("/api/v1/categories/lainnya/").json()["agencies"] == []


def test_routing_changes_show_up_in_the_api(api, city):
    Category.objects.get(code="kebakaran").default_agencies.add(Agency.objects.get(code="basarnas"))
    body = api.get("/api/v1/categories/kebakaran/").json()
    assert set(body["agencies"]) == {"damkar", "basarnas"}


def test_the_sixteen_kecamatan_of_semarang(api, city):
    kecamatan = api.get("/api/v1/kecamatan/").json()
    assert len(kecamatan) == 16
    assert {k["name"] for k in kecamatan} == SPEC_KECAMATAN
    assert all(set(k) == {"code", "name", "latitude", "longitude"} and k["code"] for k in kecamatan)
    # Each with its centre, inside the city (SPEC §7: travel estimates without coordinates).
    assert all(-7.2 < float(k["latitude"]) < -6.9 < 110.2 < float(k["longitude"]) < 110.6
               for k in kecamatan)  # fmt: skip
    assert len({k["code"] for k in kecamatan}) == 16


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("code", ["nope", "%F0%9F%9A%91", "x" * 300])
def test_an_unknown_code_is_a_404(api, city, url, code):
    assert api.get(f"{url}{code}/").status_code == 404


@pytest.mark.parametrize("url", URLS)
def test_a_code_with_a_nul_character_is_a_404(api, city, url):
    assert api.get(f"{url}a%00b/").status_code == 404
