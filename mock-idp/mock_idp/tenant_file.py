"""The tenant file: YAML read from disk, ``${NAME}`` environment references expanded.

What it holds is validated by the tenant model (``tenant.parse_tenant``) before the
service starts: a file that cannot be read or parsed stops start-up saying why.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from .tenant import Tenant, TenantError, parse_tenant

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_environment(value, environ=os.environ):
    """Replace ${NAME} and ${NAME:-default} in every string of a loaded YAML document."""
    if isinstance(value, str):

        def replace(match: re.Match) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is None:
                raise TenantError(f"environment variable {name} is referenced but not set")
            return default

        return _ENV_REFERENCE.sub(replace, value)
    if isinstance(value, list):
        return [expand_environment(v, environ) for v in value]
    if isinstance(value, dict):
        return {k: expand_environment(v, environ) for k, v in value.items()}
    return value


def load_tenant(path: Path, issuer: str, environ=os.environ) -> Tenant:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TenantError(f"cannot read tenant file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TenantError(f"tenant file {path} is not valid YAML: {exc}") from None
    return parse_tenant(expand_environment(document, environ), issuer)
