"""The stand-ins for the official redis and haproxy images: which tags, matched to Debian's versions."""

import pytest
import yaml

from container_test import compose_files, container_stand_ins, containers_test


def test_the_pinned_tags_are_read_from_the_compose_file_and_the_balancers_dockerfile():
    tags = container_stand_ins.pinned_tags(
        "services:\n  redis:\n    image: redis:7.0.15\n", "# a comment\nFROM haproxy:2.6.12\nCOPY a b\n"
    )

    assert tags == {"redis": "7.0.15", "haproxy": "2.6.12"}


def test_the_repositorys_layout_pins_both_images():
    tags = container_stand_ins.wanted()

    assert sorted(stand_in.name for stand_in in tags) == ["haproxy", "redis"]
    assert all(tag[0].isdigit() for tag in tags.values())  # a version, never latest


def test_an_unpinned_image_is_refused():
    with pytest.raises(ValueError, match="redis"):
        container_stand_ins.pinned_tags("services:\n  redis:\n    image: redis\n", "FROM haproxy:2.6.12\n")


@pytest.mark.parametrize(
    ("debian", "upstream"),
    [("5:7.0.15-1~deb12u4", "7.0.15"), ("2.6.12-1+deb12u4", "2.6.12"), ("1.0", "1.0")],
)
def test_debians_version_without_epoch_and_revision(debian, upstream):
    assert container_stand_ins.upstream_version(debian) == upstream


def test_the_scaled_layout_starts_redis_and_the_replicas_before_the_balancer_and_the_web_app():
    root = containers_test.ROOT
    compose = compose_files.merged(
        yaml.safe_load((root / "docker-compose.yml").read_text()),
        yaml.safe_load((root / "docker-compose.scale.yml").read_text()),
    )

    order = containers_test.start_order(compose)

    for replica in ("source-api-1", "source-api-2", "source-api-3"):
        assert order.index("redis") < order.index(replica) < order.index("source-api") < order.index("web-app")
    assert compose["services"]["source-api"]["build"]["dockerfile"] == "load-balancer/Dockerfile"
    assert containers_test.published_ports(compose)["source-api"] == 3001


def test_each_replica_has_the_source_apis_settings_and_the_shared_cache():
    """The replicas repeat source-api's environment (a compose override cannot take it from
    the base file): kept equal here, the cache's two settings added."""
    root = containers_test.ROOT
    base = yaml.safe_load((root / "docker-compose.yml").read_text())["services"]["source-api"]["environment"]
    scale = yaml.safe_load((root / "docker-compose.scale.yml").read_text())["services"]

    for name in ("source-api-1", "source-api-2", "source-api-3"):
        env = dict(scale[name]["environment"])
        assert env.pop("SOURCE_API_TOKEN_CACHE_URL") == "redis://redis:6379/0"
        assert env.pop("SOURCE_API_TOKEN_CACHE_KEY").startswith("${SOURCE_API_TOKEN_CACHE_KEY:?")
        assert env == base
        assert scale[name]["hostname"] == name
