"""Issue 20 in a real browser: every screen works under the Content-Security-Policy (no
violation reported), and a caller's hostile text is shown as text, never run."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'

SCREENS = {
    "operator": ["/console/", "/board/", "/performance/", "/api/docs/"],
    "supervisor": ["/board/", "/performance/"],
    "dishub": ["/agency/", "/agency/history/", "/agency/handover/"],
}


def watch_for_violations(page) -> list[str]:
    """CSP violations the page reports, from the console and the DOM's own event."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    return violations


@pytest.mark.parametrize("user", sorted(SCREENS))
def test_every_screen_runs_under_the_csp(page_for, server_url, user):
    page = page_for(user)
    violations = watch_for_violations(page)
    for path in SCREENS[user]:
        response = page.goto(f"{server_url}{path}")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    assert violations == []


def test_the_language_picker_switches_without_an_inline_handler(page_for, server_url):
    page = page_for("supervisor")
    page.goto(f"{server_url}/board/")
    violations = watch_for_violations(page)
    page.select_option("form.lang select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert violations == []


def test_a_hostile_description_is_shown_as_text(page_for, server_url, demo_report):
    demo_report(
        category="kemacetan",
        caller_name=XSS[:100],
        description=f"Macet {XSS}",
        address=f"Jl. {XSS}"[:300],
    )
    for user, path, where in [
        ("dishub", "/agency/", "#queue"),
        ("supervisor", "/board/", "body"),
    ]:
        page = page_for(user)
        page.goto(f"{server_url}{path}")
        expect(page.locator(where)).to_contain_text("<script>window.__pwned=1</script>")
        assert page.evaluate("window.__pwned") is None
        assert page.locator(f"{where} img[src='x']").count() == 0
