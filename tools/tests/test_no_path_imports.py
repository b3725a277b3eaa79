"""Every module reaches another by importing an installed package (``make`` installs them
all editable): no Python file of the repository edits the import path or loads a module
from a file path, so every tie between the top-level folders shows in an import line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# (mock-idp runs a tenant's rule files with runpy: they are the tenant's data, not modules.)
PATH_IMPORT = re.compile(r"\bsys\.path\b|\bPYTHONPATH\b|spec_from_file_location|\bimportlib\.util\b|SourceFileLoader")


def python_files() -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "__pycache__"]
        found += [Path(folder) / name for name in files if name.endswith(".py")]
    return sorted(found)


def path_imports(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if PATH_IMPORT.search(line)]


def test_no_python_file_edits_the_import_path_or_loads_a_file():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in python_files()
        if path != Path(__file__).resolve() and (lines := path_imports(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "import an installed package instead"


def test_the_search_sees_the_whole_repository():
    names = {str(path.relative_to(ROOT)) for path in python_files()}
    assert {"e2e-tests/conftest.py", "web-app/gunicorn.conf.py", "tools/benchmarks/bench.py"} <= names


@pytest.mark.parametrize(
    "code",
    [
        'sys.path.insert(0, str(ROOT / "scripts"))',
        "sys.path += [here]",
        "spec = importlib.util.spec_from_file_location(name, path)",
        'env["PYTHONPATH"] = "scripts"',
        "loader = SourceFileLoader(name, path)",
    ],
)
def test_a_path_edit_or_a_file_load_is_found(code):
    assert path_imports(code)
