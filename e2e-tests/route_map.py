"""Every route of the four services, read from their Flask url maps, for the property test
of hostile input (test_hostile_input.py): so a route added later is tested without anyone
listing it.

Each service's app factory runs in a child process, in the service's folder (as gunicorn
runs it), on a throwaway database and data folder; nothing it builds is kept but the list:
for each rule, its path, its methods, its endpoint, and the names the code around its view
reads (the identifier-like string literals of the view's module, which hold the query,
form and JSON field names it asks for).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("mock-idp", "target-api", "source-api", "web-app")

_LIST_ROUTES = r"""
import ast, importlib, inspect, json, re, sys, tempfile
from pathlib import Path

package = sys.argv[1]
scratch = Path(tempfile.mkdtemp(prefix="obo-routes-"))
own = {
    "mock_idp": {"database": scratch / "idp.sqlite3", "password_hash_cost": 4},
    "target_api": {"database": scratch / "t.sqlite3"},
    "web_app": {"data_dir": scratch},
}
settings = importlib.import_module(package + ".settings").Settings(**own.get(package, {}))
app = importlib.import_module(package).create_app(settings)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
names_of = {}

def names(module):
    if module.__name__ not in names_of:
        tree = ast.parse(inspect.getsource(module))
        found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        names_of[module.__name__] = sorted(v for v in found if NAME.match(v))
    return names_of[module.__name__]

routes = []
for rule in app.url_map.iter_rules():
    view = inspect.unwrap(app.view_functions[rule.endpoint])
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        routes.append({
            "method": method, "rule": rule.rule, "endpoint": rule.endpoint,
            "arguments": sorted(rule.arguments), "names": names(inspect.getmodule(view)),
        })
# Every name of the package's code besides: what the libraries it hands a request to read
# (Authlib's grants read the token endpoint's fields) is named in the modules that use them.
package_names = set()
for path in Path(importlib.import_module(package).__file__).parent.rglob("*.py"):
    tree = ast.parse(path.read_text())
    package_names |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
print(json.dumps({"routes": routes, "names": sorted(v for v in package_names if NAME.match(v))}))
"""


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    rule: str  # Flask's, e.g. /api/v2/clients/<client_id>
    endpoint: str
    arguments: tuple[str, ...]  # the path's variables
    names: tuple[str, ...]  # names its code reads, as far as its module's literals say
    service_names: tuple[str, ...]  # the same for the whole service

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.rule}"


@cache
def routes() -> tuple[Route, ...]:
    found = []
    for service in SERVICES:
        package = service.replace("-", "_")
        listed = subprocess.run(
            [sys.executable, "-c", _LIST_ROUTES, package],
            cwd=ROOT / service,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        read = json.loads(listed.stdout.splitlines()[-1])
        for route in read["routes"]:
            found.append(
                Route(
                    service,
                    route["method"],
                    route["rule"],
                    route["endpoint"],
                    tuple(route["arguments"]),
                    tuple(route["names"]),
                    tuple(read["names"]),
                )
            )
    return tuple(found)
