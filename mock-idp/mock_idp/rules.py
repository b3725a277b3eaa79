"""Rules: Python files the tenant runs after the user is known, before tokens are issued.

A rule file defines ``rule(user, context)``. It may add claims to the access token and
the ID token (``context.access_token[...]``, ``context.id_token[...]``) and replace the
access token's scope (``context.access_token_scope = [...]``). ``context.protocol`` says
which grant is running, as each grant declares it (``RULES_PROTOCOL``, listed in
``grants/registry.py``): ``token_exchange``, ``oidc-basic-profile`` (login) or
``oauth2-refresh-token``. Claims must be namespaced (a URL such as
``https://example.com/claim``); others are dropped and a ``w`` log entry says so.
A rule that raises fails the request with ``access_denied``; it never becomes a 500.
"""

from __future__ import annotations

import logging
import runpy
from dataclasses import dataclass, field
from pathlib import Path

from . import tenant_log
from .errors import AccessDenied
from .tenant import Client, Tenant, User

log = logging.getLogger(__name__)


@dataclass
class RuleContext:
    protocol: str
    client_id: str
    client_name: str
    audience: str | None
    scope: list[str]
    subject_audience: str | None = None  # token exchange: the API the subject token was for
    access_token: dict = field(default_factory=dict)
    id_token: dict = field(default_factory=dict)
    access_token_scope: list[str] | None = None


@dataclass
class RuleOutcome:
    access_claims: dict
    id_claims: dict
    scope: list[str] | None


def is_namespaced(claim: str) -> bool:
    return claim.startswith(("https://", "http://"))


class RuleRunner:
    def __init__(self, tenant_file: Path):
        self.base = Path(tenant_file).resolve().parent
        self._loaded: dict[Path, tuple[float, object]] = {}

    def run(self, tenant: Tenant, context: RuleContext, user: User, client: Client) -> RuleOutcome:
        for rule in sorted((r for r in tenant.rules if r.enabled), key=lambda r: (r.order, r.name)):
            try:
                function = self._load(self.base / tenant.rules_folder / rule.script)
                function(_user_profile(user), context)
            except Exception as error:  # any failure of operator code is the request's failure
                log.warning("rule %s failed: %s", rule.name, error)
                raise AccessDenied(_ascii(f"Rule {rule.name} failed: {error}")) from None
        return RuleOutcome(
            access_claims=self._namespaced(context.access_token, "access token", context, user),
            id_claims=self._namespaced(context.id_token, "ID token", context, user),
            scope=[str(s) for s in context.access_token_scope] if context.access_token_scope is not None else None,
        )

    def missing_scripts(self, tenant: Tenant) -> list[str]:
        return [
            f"rules.{i}.script: {rule.script} not found in {self.base / tenant.rules_folder}"
            for i, rule in enumerate(tenant.rules)
            if not (self.base / tenant.rules_folder / rule.script).is_file()
        ]

    def _load(self, path: Path):
        mtime = path.stat().st_mtime
        cached = self._loaded.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        function = runpy.run_path(str(path)).get("rule")
        if not callable(function):
            raise TypeError(f"{path.name} defines no rule(user, context) function")
        self._loaded[path] = (mtime, function)
        return function

    @staticmethod
    def _namespaced(claims: dict, where: str, context: RuleContext, user: User) -> dict:
        kept = {}
        for name, value in claims.items():
            if is_namespaced(str(name)):
                kept[str(name)] = value
                continue
            tenant_log.record(
                "w",
                f"Claim {name} was not added to the {where}: custom claims must be namespaced, "
                f"e.g. https://example.com/{name}",
                client_id=context.client_id,
                audience=context.audience,
                user_id=user.user_id,
                details={"protocol": context.protocol},
            )
        return kept


def _user_profile(user: User) -> dict:
    profile = user.model_dump(exclude={"password", "claims"})
    profile.update(user.claims)
    return profile


def _ascii(text: str) -> str:
    # error_description allows printable ASCII except '"' and '\\'.
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?" for c in text)[:300]
