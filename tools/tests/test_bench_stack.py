"""The bench's floors name apps that exist: a wrong module path only shows when `make bench`
runs, which `make test` does not."""

from __future__ import annotations

from pathlib import Path

import pytest

import benchmarks
from benchmarks.bench_stack import FLOORS

PACKAGE = Path(benchmarks.__file__).parent


@pytest.mark.parametrize("floor", FLOORS, ids=lambda floor: floor[0])
def test_every_floor_is_a_module_of_the_benchmarks(floor):
    module, _, attribute = floor[2].partition(":")
    package, _, rest = module.partition(".")
    assert (package, attribute) == ("benchmarks", "app"), floor
    assert (PACKAGE / (rest.replace(".", "/") + ".py")).is_file(), f"{floor[0]}: no module {module}"
