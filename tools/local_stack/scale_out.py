"""The scaled layout of the Source API: N replicas behind HAProxy, one Redis token cache.

`make up` with SOURCE_API_REPLICAS=N (local_stack/run_local.py), the end-to-end tests of the
scaled layout and `make bench` build it from here, so all three run it the same way:

- ``source-api-1`` .. ``source-api-N``: each its own gunicorn master on a loopback port of
  its own;
- ``load-balancer``: HAProxy (Debian's package) at the Source API's URL, round robin with a
  health check on ``/healthz``, a failed connection retried on another replica;
- ``redis``: Debian's ``redis-server`` on a loopback port, nothing written to disk; left out
  when SOURCE_API_TOKEN_CACHE_URL names a Redis already running.

The replicas get SOURCE_API_TOKEN_CACHE_URL and SOURCE_API_TOKEN_CACHE_KEY; without a key
in the settings, one is made on first use and kept in the run folder (mode 0600), as the
web app keeps its session secret.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import replace
from pathlib import Path

from local_stack.launcher import ROOT, Service, free_port

REPLICAS_SETTING = "SOURCE_API_REPLICAS"
CACHE_URL_SETTING = "SOURCE_API_TOKEN_CACHE_URL"
CACHE_KEY_SETTING = "SOURCE_API_TOKEN_CACHE_KEY"
MAX_REPLICAS = 16
KEY_FILE = "token-cache.key"
HAPROXY_CONFIG = "haproxy.cfg"
LOAD_BALANCER = "load-balancer"
REDIS = "redis"
COMPOSE_REPLICAS = 3  # docker-compose.scale.yml's
COMPOSE_CONFIG = ROOT / "load-balancer" / "haproxy.cfg"
GROUP = "source-api"  # what `make stop/start SERVICE=source-api` acts on: every replica and the balancer


def replica_count(values: dict[str, str]) -> int:
    """SOURCE_API_REPLICAS from ``values`` (the environment, then .env): 1 when unset."""
    given = (values.get(REPLICAS_SETTING) or "1").strip()
    if not given.isdigit() or not 1 <= int(given) <= MAX_REPLICAS:
        raise ValueError(f"{REPLICAS_SETTING}={given!r} is not a whole number from 1 to {MAX_REPLICAS}")
    return int(given)


def replica_names(count: int) -> list[str]:
    return [f"{GROUP}-{number}" for number in range(1, count + 1)]


def is_member(name: str) -> bool:
    """A process of the scaled Source API: a replica or the load balancer."""
    return name == LOAD_BALANCER or name.startswith(f"{GROUP}-")


def cache_key(values: dict[str, str], folder: Path) -> str:
    """The key of the settings, else the one kept in ``folder``, made on first use."""
    if values.get(CACHE_KEY_SETTING):
        return values[CACHE_KEY_SETTING]
    path = folder / KEY_FILE
    if path.is_file():
        kept = path.read_text().strip()
        if len(kept) >= 32:
            return kept
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)  # 43 characters
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


def redis_service(port: int) -> Service:
    """A Redis that forgets everything when it stops: the cache is only a cache."""
    command = (
        _program("redis-server"),
        *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"),
    )
    return Service(REDIS, ".", "", port, command=command, probe="redis")


def haproxy_config(bind: str, servers: list[tuple[str, str]], made_by: str = "local_stack/scale_out.py") -> str:
    """HAProxy's config: ``bind`` (address:port) in front of ``servers`` (name, address:port).

    Local processes and docker-compose.scale.yml (load-balancer/haproxy.cfg) both use it.
    Servers named by a host name are looked up through the resolv.conf's DNS as they run
    (a replica container started again may have another address), and a name not known
    yet does not stop HAProxy: that server is down until it resolves."""
    resolving = any(not address.split(":")[0].replace(".", "").isdigit() for _, address in servers)
    options = " resolvers system init-addr last,libc,none" if resolving else ""
    lines = "\n".join(f"    server {name} {address} check inter 1s fall 2 rise 1{options}" for name, address in servers)
    dns = "\nresolvers system\n    parse-resolv-conf\n    hold valid 5s\n" if resolving else ""
    return f"""\
# Made by {made_by}
# for {len(servers)} Source API replicas (docs/scale-out.md).
global
    maxconn 2048
    # No request log (gunicorn logs those); a replica going down or up again is printed
    # as a warning, which is what an operator looks for here.

defaults
    mode http
    timeout connect 2s
    timeout client 75s
    timeout server 30s
    timeout http-keep-alive 75s
    # A request whose connection failed, or that got no answer at all, goes to another replica.
    retries 2
    option redispatch
    retry-on conn-failure empty-response

frontend source-api
    bind {bind}
    default_backend source-api-replicas

backend source-api-replicas
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
{lines}
{dns}"""


def load_balancer_service(port: int, replicas: list[Service], folder: Path) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / HAPROXY_CONFIG
    servers = [(s.name, f"127.0.0.1:{s.port}") for s in replicas]
    config.write_text(haproxy_config(f"127.0.0.1:{port}", servers))
    return Service(LOAD_BALANCER, ".", "", port, command=(_program("haproxy"), "-db", "-f", str(config)))


def scaled(
    services: list[Service], count: int, folder: Path, cache_url: str | None = None, key: str | None = None
) -> list[Service]:
    """``services`` with the Source API replaced by ``count`` replicas behind the load
    balancer (on the Source API's port), and a Redis first unless ``cache_url`` names one."""
    source = next(s for s in services if s.name == GROUP)
    extra: list[Service] = []
    if not cache_url:
        redis = redis_service(free_port())
        extra.append(redis)
        cache_url = f"redis://127.0.0.1:{redis.port}/0"
    env = {**source.env, CACHE_URL_SETTING: cache_url, CACHE_KEY_SETTING: key or secrets.token_urlsafe(32)}
    replicas = [replace(source, name=name, port=free_port(), env=env) for name in replica_names(count)]
    balancer = load_balancer_service(source.port, replicas, folder)
    result: list[Service] = []
    for service in services:
        result += [*extra, *replicas, balancer] if service is source else [service]
    return result


def start_batches(services: list[Service]) -> list[list[Service]]:
    """The services in two batches: the load balancer last, once its replicas answer, so
    HAProxy counts them all up from its start (servers start up in its view) rather than
    one by one as its health checks come round."""
    last = [s for s in services if s.name == LOAD_BALANCER]
    return [[s for s in services if s not in last], last]


def missing_programs() -> list[str]:
    return [name for name in ("redis-server", "haproxy") if not shutil.which(name)]


def _program(name: str) -> str:
    return shutil.which(name) or name


def compose_haproxy_config() -> str:
    """load-balancer/haproxy.cfg, for docker-compose.scale.yml: the replicas by their names
    on the compose network, the balancer on the Source API's port in its container."""
    servers = [(name, f"{name}:3001") for name in replica_names(COMPOSE_REPLICAS)]
    return haproxy_config(
        "*:3001", servers, made_by="`python -m local_stack.scale_out` from tools/local_stack/scale_out.py"
    )


def main() -> int:
    """Write load-balancer/haproxy.cfg again (a test checks it is current)."""
    COMPOSE_CONFIG.write_text(compose_haproxy_config())
    print(f"wrote {COMPOSE_CONFIG}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
