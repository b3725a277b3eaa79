"""Check that what each Dockerfile COPYs exists and that its CMD names a module it copies.

Paths are relative to the repository root, the build context of every image.

Without a Docker engine nothing builds the images here; this catches the common breakage
(a renamed file or package) before someone with Docker does.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def problems_in(dockerfile: Path) -> list[str]:
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
                if not (context / source).exists():
                    problems.append(f"{dockerfile}:{number}: COPY source {source} does not exist")
        if words[0].upper() == "CMD":
            command = json.loads(words[1])
            for word in command:
                if ":" in word and "." in word.split(":")[0]:
                    package = word.split(":")[0].split(".")[0]
                    if package not in copied:
                        problems.append(f"{dockerfile}:{number}: CMD runs {word} but {package} is not copied")
                if word.endswith(".py") and word not in copied:
                    problems.append(f"{dockerfile}:{number}: CMD reads {word} but it is not copied")
    return problems


def main() -> int:
    dockerfiles = sorted(ROOT.glob("*/Dockerfile"))
    problems = [p for d in dockerfiles for p in problems_in(d)]
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{len(dockerfiles)} Dockerfile(s): COPY and CMD paths exist")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
