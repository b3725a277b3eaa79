"""The JSON examples of the docs are JSON, pretty-printed: readable on a projector and
copyable, with ``...`` only where a list or an object goes on."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT

DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```", re.M | re.S)
ELIDED = re.compile(r",\s*\.\.\.\s*(?=[\]}])")  # `, ...]`: the list goes on


def examples() -> list:
    return [
        pytest.param(match.group(1), id=f"{path.name}-{number}")
        for path in DOCS
        for number, match in enumerate(JSON_BLOCK.finditer(path.read_text(encoding="utf-8")), 1)
    ]


@pytest.mark.parametrize("block", examples())
def test_each_json_example_parses_and_is_pretty_printed(block):
    value = json.loads(ELIDED.sub("", block))
    if len(json.dumps(value)) > 40 and "..." not in block:  # a short answer may stay on its line
        assert block.strip() == json.dumps(value, indent=2, ensure_ascii=False), f"indent it by two:\n{block}"
    elif len(json.dumps(value)) > 40:
        assert block.count("\n") > 1, f"one line of JSON; show it indented:\n{block}"
