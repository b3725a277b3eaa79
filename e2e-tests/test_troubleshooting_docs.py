"""docs/troubleshooting.md has an entry for every case T01-T44, and the web app serves it.

Each entry is a heading with an explicit anchor (``### <a id="t12"></a>T12 ...``) under
the section of its tutorial step, and a symptom, a cause, a fix and the tenant log event
to look for. The web app's error pages link to ``/troubleshooting#tNN``: every case the
web app can link to must be there, in the file and in the page the running web app shows.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import requests
from demo_tenant import TIMEOUT

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "troubleshooting.md"
WEB_APP = ROOT / "web-app" / "web_app"
CASES = [f"T{n:02d}" for n in range(1, 45)]
PARTS = ("Symptom", "Cause", "Fix", "Log")
NOT_INVOLVED = "none: the identity provider is not involved"

# The section of each case: the tutorial step it belongs to (the first, for a case of several).
SECTIONS = {
    "Step 1: Request tokens": range(1, 10),
    "Step 2: Call the Source API": range(10, 16),
    "Step 3: Exchange the token": [*range(16, 29), *range(38, 45)],
    "Step 4: Call the Target API": range(29, 32),
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
    **{case: ["failed_on_behalf_of_token_exchange"] for case in CASES[15:27]},
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
}
HEADING = re.compile(r'^### <a id="(t\d\d)"></a>(T\d\d) \S', re.M)


def entries() -> dict[str, tuple[str, str]]:
    """Each case's entry text (from its heading to the next heading) and its section."""
    assert GUIDE.is_file(), f"{GUIDE} is missing"
    found: dict[str, tuple[str, str]] = {}
    section = None
    blocks = re.split(r"^(?=##+ )", GUIDE.read_text(encoding="utf-8"), flags=re.M)
    for block in blocks:
        if block.startswith("## "):
            section = block.splitlines()[0][3:].strip()
        match = HEADING.match(block)
        if match:
            anchor, case = match.groups()
            assert anchor == case.lower(), f"the anchor of {case} is {anchor}"
            assert case not in found, f"{case} has two entries"
            found[case] = (block, section)
    return found


def part(entry: str, name: str) -> str:
    match = re.search(rf"^\*\*{name}:\*\* (.+?)(?=^\*\*[\w ]+:\*\*|\Z)", entry, flags=re.M | re.S)
    return " ".join(match.group(1).split()) if match else ""


def web_app_cases():
    """web_app/troubleshooting_cases.py (importing the package builds no app)."""
    return importlib.import_module("web_app.troubleshooting_cases")


def linked_by_the_web_app() -> set[str]:
    """Every case an error page or a template of the web app can link to."""
    linked = {number for *_, number in web_app_cases().RULES if number}
    for source in WEB_APP.glob("*.py"):
        linked |= set(re.findall(r'Case\("(T\d\d)"\)', source.read_text(encoding="utf-8")))
    for template in (WEB_APP / "templates").glob("*.html"):
        linked |= {anchor.upper() for anchor in re.findall(r"#(t\d\d)\b", template.read_text(encoding="utf-8"))}
    return linked


# -- the file --------------------------------------------------------------------------------


def test_every_case_has_an_entry_with_its_anchor():
    found = entries()
    assert sorted(found) == CASES, (
        f"missing: {sorted(set(CASES) - set(found))}, extra: {sorted(set(found) - set(CASES))}"
    )


def test_the_guide_starts_with_how_to_use_it():
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("## How to use this page")
    assert start < text.index("### "), "'How to use this page' must come before the entries"
    assert "http://localhost:9000/logs" in text[start : text.index("### ")]


@pytest.mark.parametrize("case", CASES)
def test_each_entry_is_under_its_step(case):
    _, section = entries()[case]
    expected = next(name for name, numbers in SECTIONS.items() if int(case[1:]) in numbers)
    assert section == expected, f"{case} is under {section!r}, not {expected!r}"


@pytest.mark.parametrize("case", CASES)
def test_each_entry_has_a_symptom_a_cause_a_fix_and_a_log_part(case):
    entry, _ = entries()[case]
    for name in PARTS:
        assert len(part(entry, name)) >= 10, f"{case} has no {name} part (a paragraph starting **{name}:**)"
    # The symptom quotes what the user sees: a status, an error code or a page's text.
    assert re.search(r"\b[1-5]\d\d\b|`[a-z_]+`", part(entry, "Symptom")), part(entry, "Symptom")


@pytest.mark.parametrize("case", CASES)
def test_each_entry_names_the_files_where_its_case_is_decided_and_they_name_it(case):
    decided_in = part(entries()[case][0], "Decided in")
    files = re.findall(r"`([\w./-]+\.py)`", decided_in)
    assert files, f"{case} has no **Decided in:** line naming a module"
    for name in files:
        path = ROOT / name
        assert path.is_file(), f"{case}: {name} does not exist"
        assert re.search(rf"\b{case}\b", path.read_text(encoding="utf-8")), f"{name} never names {case}"


@pytest.mark.parametrize("case", CASES)
def test_each_log_part_names_the_event_types_of_its_case(case):
    log = part(entries()[case][0], "Log")
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


def test_every_case_of_the_web_app_links_to_its_own_anchor():
    for number in linked_by_the_web_app():
        case = web_app_cases().Case(number)
        assert case.number == number, case
        assert case.link == "/troubleshooting#" + number.lower(), case


def test_the_web_apps_troubleshooting_page_has_every_anchor(stack):
    page = requests.get(stack["web-app"].url + "/troubleshooting", timeout=TIMEOUT)

    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html"), page.headers
    for case in CASES:
        # The heading keeps its inline anchor when Python-Markdown renders it.
        assert re.search(rf'<h3><a id="{case.lower()}"></a>{case} ', page.text), f"{case} is not on the page"
    assert sorted(re.findall(r'id="(t\d\d)"', page.text)) == [case.lower() for case in CASES]
    assert "How to use this page" in page.text
