"""docs/troubleshooting.md read by a program: which entry an error is likely to be.

Each entry quotes the ``error`` and ``error_description`` (or the Source API's title) that
its case produces, under the section of its tutorial step. Looking an answer's words up
there, within the step that failed, keeps the terminal tools in step with the guide
without a second table of cases. The guide is parsed by obo_common's parser, the one
parser of the file.
"""

from __future__ import annotations

from pathlib import Path

from obo_common import troubleshooting_guide
from obo_common.troubleshooting_guide import Entry

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "troubleshooting.md"
OUTAGES = {"identity provider": "T32", "Target API": "T31"}  # who could not be reached -> case


def entries(guide: Path = GUIDE) -> list[Entry]:
    return troubleshooting_guide.entries(guide)


def likely_entry(step: int, words: list[str | None], guide: Path = GUIDE) -> Entry | None:
    """The one entry of ``step`` (or of the infrastructure section) quoting the first of
    ``words`` that only one entry quotes; None when none is obvious."""
    candidates = [e for e in entries(guide) if e.section.startswith(f"Step {step}:") or e.section == "Infrastructure"]
    for word in words:
        if not word or len(word) < 6:
            continue
        quoting = [entry for entry in candidates if word in entry.text]
        if len(quoting) == 1:
            return quoting[0]
    return None


def outage_entry(unreachable: str, guide: Path = GUIDE) -> Entry | None:
    """The entry for a service that did not answer (``OUTAGES``' names)."""
    case = OUTAGES.get(unreachable)
    return next((entry for entry in entries(guide) if entry.case == case), None)
