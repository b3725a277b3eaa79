"""docs/troubleshooting.md has an entry for every case T01-Tnn, and the web app serves it.

Each entry is a heading with an explicit anchor (``### <a id="t12"></a>T12 ...``) under
the section of its tutorial step, and a symptom, a cause, a fix and the tenant log event
to look for. The guide is read by its one parser (obo_common.troubleshooting_guide), as
the web app and the terminal tools read it, and the cases are those it finds: numbered
from T01 without a gap. The web app's error pages link to ``/troubleshooting#tNN``: every
case the web app can link to must be there, in the file and in the page the running web
app shows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from demo_tenant import TIMEOUT

from obo_common.troubleshooting_guide import Entry, parse
from web_app.troubleshooting_cases import RULES

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "troubleshooting.md"
WEB_APP = ROOT / "web-app" / "web_app"
PARTS = ("Symptom", "Cause", "Fix", "Log")
NOT_INVOLVED = "none: the identity provider is not involved"

# The section of each case: the tutorial step it belongs to (the first, for a case of several).
SECTIONS = {
    "Step 1: Request tokens": range(1, 10),
    "Step 2: Call the Source API": range(10, 16),
    "Step 3: Exchange the token": [*range(16, 29), *range(38, 45)],
    "Step 4: Call the Target API": [*range(29, 32), *range(45, 48)],
    "Step 5: Refresh tokens": range(33, 38),
    "Infrastructure": range(32, 33),
}
# The tenant log event types each case must name (None: the identity provider is not involved).
LOG_TYPES = {
    "T01": ["f"],
    "T02": ["feacft"],
    "T03": ["feacft"],
    "T04": ["f"],
    "T05": ["feacft"],
    "T06": ["feacft", "fertft"],
    "T07": ["seacft"],
    "T08": ["f"],
    "T09": ["f"],
    **{case: ["failed_on_behalf_of_token_exchange"] for case in (f"T{n}" for n in range(16, 28))},
    "T17": ["failed_on_behalf_of_token_exchange", "fertft"],
    "T28": ["api_limit"],
    "T33": ["fertft"],
    "T34": ["ferrt"],
    "T35": ["fertft"],
    "T36": ["fertft"],
    "T37": ["api_limit"],
    "T38": ["failed_on_behalf_of_token_exchange"],
    "T39": ["srrt", "failed_on_behalf_of_token_exchange"],
    **{case: ["failed_on_behalf_of_token_exchange"] for case in ("T40", "T41", "T42", "T43", "T44")},
    "T45": ["failed_on_behalf_of_token_exchange", "gd_auth_succeed"],
    "T46": ["failed_on_behalf_of_token_exchange"],
    "T47": ["gd_auth_succeed", "failed_on_behalf_of_token_exchange"],
}
# A heading that names a case, whether or not the parser can read it.
CASE_HEADING = re.compile(r"^### .*?\b(T\d\d)\b", re.M)


def entries() -> dict[str, Entry]:
    """Each case's entry, by its number, as the parser reads the guide."""
    assert GUIDE.is_file(), f"{GUIDE} is missing"
    found: dict[str, Entry] = {}
    for entry in parse(GUIDE.read_text(encoding="utf-8")):
        assert entry.text.startswith(f'### <a id="{entry.case.lower()}"></a>'), (
            f"the anchor of {entry.case} is not its own"
        )
        assert entry.case not in found, f"{entry.case} has two entries"
        found[entry.case] = entry
    return found


CASES = sorted(entries())


def part(entry: Entry, name: str) -> str:
    return " ".join(entry.part(name).split())


def linked_by_the_web_app() -> set[str]:
    """Every case an error page or a template of the web app can link to."""
    linked = {number for *_, number in RULES if number}
    for source in WEB_APP.glob("*.py"):
        linked |= set(re.findall(r'Case\("(T\d\d)"\)', source.read_text(encoding="utf-8")))
    for template in (WEB_APP / "templates").glob("*.html"):
        linked |= {anchor.upper() for anchor in re.findall(r"#(t\d\d)\b", template.read_text(encoding="utf-8"))}
    return linked


# -- the file --------------------------------------------------------------------------------


def test_the_cases_are_numbered_from_T01_without_a_gap():
    expected = [f"T{n:02d}" for n in range(1, len(CASES) + 1)]
    assert expected == CASES, (
        f"missing: {sorted(set(expected) - set(CASES))}, extra: {sorted(set(CASES) - set(expected))}"
    )


def test_every_case_heading_is_an_entry_the_parser_reads():
    named = CASE_HEADING.findall(GUIDE.read_text(encoding="utf-8"))
    assert sorted(named) == CASES, f"headings the parser does not read: {[n for n in named if n not in CASES]}"


def test_the_guide_starts_with_how_to_use_it():
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("## How to use this page")
    assert start < text.index("### "), "'How to use this page' must come before the entries"
    assert "http://localhost:9000/logs" in text[start : text.index("### ")]


@pytest.mark.parametrize("case", CASES)
def test_each_entry_is_under_its_step(case):
    section = entries()[case].section
    expected = next((name for name, numbers in SECTIONS.items() if int(case[1:]) in numbers), None)
    assert expected, f"{case} is in no section of SECTIONS: say which step it belongs to"
    assert section == expected, f"{case} is under {section!r}, not {expected!r}"


@pytest.mark.parametrize("case", CASES)
def test_each_entry_has_a_symptom_a_cause_a_fix_and_a_log_part(case):
    entry = entries()[case]
    for name in PARTS:
        assert len(part(entry, name)) >= 10, f"{case} has no {name} part (a paragraph starting **{name}:**)"
    # The symptom quotes what the user sees: a status, an error code or a page's text.
    assert re.search(r"\b[1-5]\d\d\b|`[a-z_]+`", part(entry, "Symptom")), part(entry, "Symptom")


@pytest.mark.parametrize("case", CASES)
def test_each_entry_names_the_files_where_its_case_is_decided_and_they_name_it(case):
    decided_in = part(entries()[case], "Decided in")
    files = re.findall(r"`([\w./-]+\.py)`", decided_in)
    assert files, f"{case} has no **Decided in:** line naming a module"
    for name in files:
        path = ROOT / name
        assert path.is_file(), f"{case}: {name} does not exist"
        assert re.search(rf"\b{case}\b", path.read_text(encoding="utf-8")), f"{name} never names {case}"


@pytest.mark.parametrize("case", CASES)
def test_each_log_part_names_the_event_types_of_its_case(case):
    log = part(entries()[case], "Log")
    expected = LOG_TYPES.get(case)
    if expected is None:
        assert log.startswith(NOT_INVOLVED), f"{case}: {log}"
    else:
        named = set(re.findall(r"`([a-z_]+)`", log))
        assert set(expected) <= named, f"{case} must name {expected} in its Log part: {log}"


# -- the web app -------------------------------------------------------------------------------


def test_every_case_the_web_app_can_link_to_has_an_entry():
    linked = linked_by_the_web_app()
    assert linked, "no case found in the web app"
    assert linked <= set(entries()), f"the web app links to cases without an entry: {sorted(linked - set(entries()))}"


def test_the_web_apps_troubleshooting_page_has_every_anchor(stack):
    page = requests.get(stack["web-app"].url + "/troubleshooting", timeout=TIMEOUT)

    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html"), page.headers
    for case in CASES:
        # The heading keeps its inline anchor when Python-Markdown renders it.
        assert re.search(rf'<h3><a id="{case.lower()}"></a>{case} ', page.text), f"{case} is not on the page"
    assert sorted(re.findall(r'id="(t\d\d)"', page.text)) == [case.lower() for case in CASES]
    assert "How to use this page" in page.text


def test_the_web_apps_troubleshooting_page_shows_the_stacks_urls(stack):
    page = requests.get(stack["web-app"].url + "/troubleshooting", timeout=TIMEOUT).text

    # The file is written with `make up`'s URLs; the suite's stack is on free ports (or, run
    # against containers, on those very ports): every such URL left must be the stack's own.
    assert f'<a href="{stack["mock-idp"].url}/logs">' in page
    assert f'<a href="{stack["web-app"].url}/panel">' in page
    own = {stack[name].url.rstrip("/") for name in ("mock-idp", "web-app", "source-api")}
    left = set(re.findall(r"http://localhost:(?:9000|3000|3001)(?!\d)", page))
    assert left <= own, f"a `make up` URL is left on the page: {left - own}"
    assert f"<code>$IDP</code> = <code>{stack['mock-idp'].url}</code>" in page
