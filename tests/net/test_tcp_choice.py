"""Each simulated host chooses its TCP: the profile ("linux", "rfc") and the congestion control ("cubic",
"newreno"), from Python and from topology files."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersim.errors import LayersimError
from layersim.net.network import Network
from layersim.net.topology import TopologyError, load_topology
from layersim.tcp import LINUX, RFC, choose_profile


def test_network_default_and_per_host_choice() -> None:
    net = Network(tcp="rfc")
    a = net.add_host("a")
    b = net.add_host("b", tcp="linux")
    c = net.add_host("c", congestion="cubic")
    d = net.add_host("d", tcp=LINUX, congestion="newreno")
    assert a.tcp.profile is RFC and b.tcp.profile is LINUX
    assert (c.tcp.profile.name, c.tcp.profile.congestion_control) == ("rfc", "cubic")
    assert d.tcp.profile.congestion_control == "newreno" and d.tcp.profile.name == "linux"


def test_network_wide_congestion_applies_to_every_host() -> None:
    net = Network(congestion="cubic")
    assert net.add_host("a").tcp.profile.congestion_control == "cubic"
    assert net.add_host("b", tcp="rfc").tcp.profile.congestion_control == "cubic"


def test_cubic_is_what_the_connections_run() -> None:
    """The choice reaches the connections: a host with CUBIC opens connections whose controller is CUBIC."""
    from layersim.tcp.cubic import controller

    assert type(controller(choose_profile("linux", "cubic"), 1448)).__name__ != \
        type(controller(choose_profile("linux", "newreno"), 1448)).__name__


@pytest.mark.parametrize(("tcp", "congestion", "message"), [
    ("bsd", None, "unknown TCP profile 'bsd' (use 'linux' or 'rfc')"),
    ("linux", "bbr", "unknown congestion control 'bbr' (use 'newreno' or 'cubic')"),
])
def test_unknown_names_are_clear_errors(tcp: str, congestion: str | None, message: str) -> None:
    with pytest.raises(LayersimError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Network(tcp=tcp, congestion=congestion)
    with pytest.raises(LayersimError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Network().add_host("h", tcp=tcp, congestion=congestion)


def write(tmp_path: Path, node_lines: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(f'[[node]]\nname = "h"\nkind = "host"\n{node_lines}\n'
                    '[[node]]\nname = "r"\nkind = "router"\n'
                    '[[link]]\na = "h"\nb = "r"\n')
    return path


def test_topology_keys_choose_the_hosts_tcp(tmp_path: Path) -> None:
    scenario = load_topology(write(tmp_path, 'tcp = "rfc"\ncongestion = "cubic"'))
    profile = scenario.network.nodes["h"].tcp.profile
    assert (profile.name, profile.congestion_control) == ("rfc", "cubic")


@pytest.mark.parametrize(("lines", "message"), [
    ('tcp = "bsd"', "[[node]] #1: tcp: unknown TCP profile 'bsd'"),
    ('congestion = "vegas"', "[[node]] #1: congestion: unknown congestion control 'vegas'"),
    ("tcp = 1", "[[node]] #1: tcp:"),
])
def test_topology_key_mistakes_name_the_place(tmp_path: Path, lines: str, message: str) -> None:
    with pytest.raises(TopologyError) as info:
        load_topology(write(tmp_path, lines))
    assert message in str(info.value)


def test_routers_do_not_take_tcp_keys(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[[node]]\nname = "r"\nkind = "router"\ncongestion = "cubic"\n')
    with pytest.raises(TopologyError, match=r"\[\[node\]\] #1: congestion: r is a router; only hosts run TCP"):
        load_topology(path)
