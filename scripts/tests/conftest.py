"""The scripts' own logic, tested without running them (`make test-containers` runs these first)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
