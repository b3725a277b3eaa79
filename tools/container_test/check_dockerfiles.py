"""Check that what each Dockerfile COPYs exists and that its CMD names a module it copies,
and that each healthcheck in docker-compose.yml runs a script or module its image copies,
with no space inside an argument.

Paths are relative to the repository root, the build context of every image.

This catches the common breakage (a renamed file or package) in seconds, before the images
are built (`make test-containers` builds and runs them). A healthcheck argument with a
space is refused because podman's Docker-compatible API splits CMD arguments on whitespace.
No image may copy the test-only package (it signs tokens of any shape, alg=none included),
nor anything from the tools folder: what an image runs beside its service is a package it
installs on purpose (common/serving).
"""

from __future__ import annotations

import itertools
import json
import shlex
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEST_ONLY = Path("common/testing_support")
TOOLS = Path("tools")
# Folders no image may copy, or copy a folder holding them: what the COPY would do.
NOT_SHIPPED = {TEST_ONLY: f"brings in the test-only {TEST_ONLY}", TOOLS: "takes files of the tools folder"}


def problems_in(dockerfile: Path) -> list[str]:
    return _read(dockerfile)[0]


def copied_names(dockerfile: Path) -> list[str]:
    """The names (last path part) of what the Dockerfile COPYs."""
    return _read(dockerfile)[1]


def _read(dockerfile: Path) -> tuple[list[str], list[str]]:
    context = ROOT  # every image is built from the repository root (docker-compose.yml)
    problems, copied = [], []
    for number, line in enumerate(dockerfile.read_text().splitlines(), 1):
        words = line.strip().split(maxsplit=1)
        if not words:
            continue
        if words[0].upper() == "COPY":
            parts = [p for p in shlex.split(words[1]) if not p.startswith("--")]
            for source in parts[:-1]:
                copied.append(Path(source).name)
                if problem := _copy_problem(context, source):
                    problems.append(f"{dockerfile}:{number}: {problem}")
        if words[0].upper() == "CMD":
            command = json.loads(words[1])
            for word in command:
                if ":" in word and "." in word.split(":")[0]:
                    package = word.split(":")[0].split(".")[0]
                    if package not in copied:
                        problems.append(f"{dockerfile}:{number}: CMD runs {word} but {package} is not copied")
                if word.endswith(".py") and word not in copied:
                    problems.append(f"{dockerfile}:{number}: CMD reads {word} but it is not copied")
    return problems, copied


def _copy_problem(context: Path, source: str) -> str | None:
    """What is wrong with copying ``source`` into an image, if anything."""
    if not (context / source).exists():
        return f"COPY source {source} does not exist"
    for folder, what in NOT_SHIPPED.items():
        if (context / folder).resolve().is_relative_to((context / source).resolve()) or Path(source).is_relative_to(
            folder
        ):
            return f"COPY {source} {what}"
    return None


def healthcheck_problems(compose: dict, root: Path = ROOT, source: str = "docker-compose.yml") -> list[str]:
    """What is wrong with the healthchecks of ``compose``, read from the file named ``source``."""
    problems = []
    for name, service in (compose.get("services") or {}).items():
        test = (service.get("healthcheck") or {}).get("test")
        if test is None:
            continue
        where = f"{source}: {name}: healthcheck"
        if not isinstance(test, list) or not test or test[0] != "CMD":
            problems.append(f'{where} must be a ["CMD", ...] list, not {test!r}')
            continue
        problems += [f"{where} argument {a!r} holds a space" for a in test[1:] if any(c.isspace() for c in str(a))]
        dockerfile = root / ((service.get("build") or {}).get("dockerfile") or f"{name}/Dockerfile")
        copied = copied_names(dockerfile) if dockerfile.exists() else []
        for script in (a for a in test[1:] if str(a).endswith(".py")):
            if Path(script).name not in copied:
                problems.append(f"{where} runs {script} but {dockerfile.relative_to(root)} does not copy it")
        for flag, module in itertools.pairwise(test[1:]):
            if flag == "-m" and str(module).split(".")[0] not in copied:
                problems.append(f"{where} runs -m {module} but {dockerfile.relative_to(root)} does not copy it")
    return problems


def main() -> int:
    dockerfiles = sorted(ROOT.glob("*/Dockerfile"))
    problems = [p for d in dockerfiles for p in problems_in(d)]
    for compose_file in ("docker-compose.yml", "docker-compose.scale.yml"):
        problems += healthcheck_problems(yaml.safe_load((ROOT / compose_file).read_text()), source=compose_file)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{len(dockerfiles)} Dockerfile(s): COPY and CMD paths exist; healthchecks run what their images copy")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
