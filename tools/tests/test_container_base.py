"""The stand-in base image takes from the machine only what a build needs, and no host."""

from hypothesis import given
from hypothesis import strategies as st

from container_test import container_base

MACHINE = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
global.index-url='https://pypi.mirror.example.net/simple'
global.extra-index-url='file:///opt/pypi/simple https://more.example.org/simple'
global.trusted-host='pypi.mirror.example.net'
global.constraint='/etc/xdg/pip/constraints.txt'
"""


def test_pip_conf_keeps_the_timeout_and_the_image_bundle_only():
    conf = container_base.pip_conf(MACHINE)

    assert conf == "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\ntimeout = 180\n"


def test_a_timeout_that_is_not_a_number_is_dropped():
    conf = container_base.pip_conf("global.timeout='https://pypi.mirror.example.net/'\n")

    assert "example" not in conf
    assert "timeout" not in conf


@given(st.text())
def test_pip_conf_never_carries_a_host_whatever_the_machine_says(config_list):
    conf = container_base.pip_conf(config_list + "\n" + MACHINE)

    assert "://" not in conf
    assert "example" not in conf
    assert [line.split(" = ")[0] for line in conf.splitlines()[1:]] == ["cert", "timeout"]


def test_apt_sources_and_options_are_the_machines_own_files(tmp_path):
    (tmp_path / "sources.list").write_text("# only a comment\n")
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text("Types: deb\nURIs: http://deb.example/debian\n")
    (tmp_path / "sources.list.d" / "old.list.save").write_text("deb http://old.example/ bookworm main\n")
    (tmp_path / "apt.conf.d").mkdir()
    (tmp_path / "apt.conf.d" / "99archive").write_text('Acquire::Check-Valid-Until "false";\n')
    (tmp_path / "apt.conf.d" / "01autoremove").write_text("APT { NeverAutoRemove {}; };\n")

    assert container_base.apt_sources(tmp_path) == [tmp_path / "sources.list.d" / "debian.sources"]
    assert container_base.apt_options(tmp_path) == [tmp_path / "apt.conf.d" / "99archive"]


def test_mmdebstrap_gets_the_files_not_their_contents(tmp_path):
    source, option = tmp_path / "debian.sources", tmp_path / "99archive"

    command = container_base.mmdebstrap_command("bookworm", tmp_path / "rootfs", [source], [option])

    assert command[:3] == ["mmdebstrap", "--mode=root", "--variant=minbase"]
    assert f"--aptopt={option}" in command
    assert command[-3:] == ["bookworm", str(tmp_path / "rootfs"), str(source)]
    assert "--include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates" in command


def test_finish_makes_pip_install_work_as_in_the_official_image(tmp_path):
    rootfs, cas = tmp_path / "rootfs", tmp_path / "cas"
    (rootfs / "usr/lib/python3.11").mkdir(parents=True)
    (rootfs / "usr/lib/python3.11/EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    (rootfs / "etc").mkdir()
    cas.mkdir()
    (cas / "proxy.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (cas / "README").write_text("not a certificate\n")

    container_base.finish(rootfs, MACHINE, extra_cas=cas)

    assert not (rootfs / "usr/lib/python3.11/EXTERNALLY-MANAGED").exists()
    assert "://" not in (rootfs / "etc/pip.conf").read_text()
    assert sorted(p.name for p in (rootfs / "usr/local/share/ca-certificates").iterdir()) == ["proxy.crt"]
