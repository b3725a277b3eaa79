"""The ``current`` exchange profile: what a request must carry, and delegation (RFC 8693).

With an ``actor_token`` (the exchanging client's own client-credentials token for the
exchange's audience) the issued token names that client as its actor, ``act: {"sub":
client_id}`` (RFC 8693 4.1); an ``act`` the subject token already carries is nested
under it, oldest deepest. Without an actor token the subject token's chain is carried as
it is: a chain is never dropped, and never longer than the tenant allows. ``may_act`` in
the subject token (RFC 8693 4.4), when present, names the only client that may exchange
it, with or without an actor token.
"""

from __future__ import annotations

from ..errors import ActorNotPermitted, DelegationTooDeep, InvalidRequest, TokenRefused
from ..token_verification import TokenRejected, verify_access_token
from ..tokens import ACCESS_TOKEN_TYPE

# Checked in this order: the first one missing is named (T41).
REQUIRED = ("subject_token", "subject_token_type", "requested_token_type", "audience")


def require_parameters(data) -> None:
    """The parameters the current profile requires, and the token types it accepts (400)."""
    for name in REQUIRED:
        if not data.get(name):
            raise InvalidRequest(f"Missing required parameter: {name}")  # T19, T41
    if data["subject_token_type"] != ACCESS_TOKEN_TYPE:
        raise InvalidRequest("Unsupported subject_token_type")  # T26
    if data["requested_token_type"] != ACCESS_TOKEN_TYPE:
        raise InvalidRequest("Unsupported requested_token_type: this server issues access tokens only")  # T26
    if data.get("actor_token") and not data.get("actor_token_type"):
        raise InvalidRequest("Missing required parameter: actor_token_type")  # T43
    if data.get("actor_token_type") and not data.get("actor_token"):
        raise InvalidRequest("actor_token_type was sent without actor_token")  # T43
    if data.get("actor_token_type") not in (None, ACCESS_TOKEN_TYPE):
        raise InvalidRequest("Unsupported actor_token_type")  # T43


def actor_of(actor_token: str | None, client_id: str, audience: str) -> str | None:
    """The acting client's id, from its own client-credentials token for ``audience``
    (401 when it does not verify, 403 when it is another client's), or None."""
    if not actor_token:
        return None
    try:
        claims = verify_access_token(actor_token, audience, what="actor_token")
    except TokenRejected as rejected:
        raise TokenRefused(rejected.reason) from None
    if claims.get("sub") != f"{client_id}@clients" or claims.get("gty") != "client-credentials":
        raise ActorNotPermitted(f"actor_token must be a client-credentials token of the exchanging client {client_id}")
    return client_id


def act_claim(subject: dict, actor: str | None, client_id: str, depth_limit: int) -> dict | None:
    """The issued token's ``act``: the actor over the subject token's chain (T43, T44).

    Decided as RFC 8693 reads (docs/security.md, "Delegation"): ``may_act`` (4.4) is a
    JSON object naming the only party that may act on the token, and the exchanging client
    acts whether or not it sends an actor token; ``act`` (4.1) is a JSON object at every
    level, carried whole; the tenant's depth limit bounds every token issued, a carried
    chain included."""
    prior = _chain(subject)
    may_act = subject.get("may_act")
    if "may_act" in subject and not isinstance(may_act, dict):
        raise ActorNotPermitted("The subject_token's may_act is not a JSON object: no party may act on it")
    if isinstance(may_act, dict) and may_act.get("sub") != client_id:
        raise ActorNotPermitted(f"The subject_token's may_act does not allow {client_id} to act")
    act = ({"sub": actor, "act": prior} if prior else {"sub": actor}) if actor else prior
    depth = chain_depth(act)
    if depth > depth_limit:
        raise DelegationTooDeep(
            f"Delegation chain too deep: the token would name {depth} actor(s), the tenant allows {depth_limit}"
        )
    return act


def _chain(subject: dict) -> dict | None:
    """The subject token's ``act`` chain, refused when a level is not a JSON object."""
    link = subject
    while "act" in link:
        link = link["act"]
        if not isinstance(link, dict):
            raise InvalidRequest("subject_token has an act claim that is not a JSON object")
    return subject.get("act")


def chain_depth(act) -> int:
    depth = 0
    while isinstance(act, dict):
        depth += 1
        act = act.get("act")
    return depth
