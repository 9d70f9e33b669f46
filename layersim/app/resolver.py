"""A stub resolver that behaves like glibc's: hosts entries first, then the nameservers in turn, with
resolv.conf's `timeout` and `attempts`, a retry over TCP when the answer is truncated, and glibc's errors.

The protocol part (`build_query`, `read_reply`) does no I/O; `Resolver` sends and waits through the socket
module and monotonic clock it is given, so it runs unchanged on a simulated host.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from ipaddress import IPv4Address
from typing import Any

from layersim.app.serving import recv_exact
from layersim.errors import LayersimError
from layersim.wire.dns import DNS, DNSRcode, DNSType
from layersim.wire.dns_records import check_name
from layersim.wire.packet import Packet

__all__ = ["MAXNS", "GaiError", "HostEntry", "Reply", "ReplyKind", "ResolveError", "Resolver", "ResolverConfig",
           "build_query", "parse_hosts", "read_reply", "server_timeout"]

MAXNS = 3  # resolv.conf nameserver lines after the third are ignored (glibc's MAXNS)
RES_MAXRETRANS = 30  # the largest `options timeout:` glibc accepts
RES_MAXRETRY = 5  # the largest `options attempts:` glibc accepts


class GaiError(IntEnum):
    """getaddrinfo error codes with glibc's values (netdb.h): what socket.gaierror carries on Linux."""

    EAI_NONAME = -2  # NXDOMAIN, or a name that is not a valid domain name
    EAI_AGAIN = -3  # no answer in time, or SERVFAIL / REFUSED from every nameserver
    EAI_FAIL = -4  # a non-recoverable answer (FORMERR, NOTIMP)
    EAI_NODATA = -5  # the name exists but has no A record


STRERROR = {  # gai_strerror() texts of glibc
    GaiError.EAI_NONAME: "Name or service not known",
    GaiError.EAI_AGAIN: "Temporary failure in name resolution",
    GaiError.EAI_FAIL: "Non-recoverable failure in name resolution",
    GaiError.EAI_NODATA: "No address associated with hostname",
}


class ResolveError(LayersimError):
    """A name that did not resolve; `errno` and `strerror` are what socket.gaierror would carry on Linux."""

    def __init__(self, name: str, errno: GaiError, detail: str) -> None:
        super().__init__(f"resolving {name!r}: {detail} ([Errno {int(errno)}] {STRERROR[errno]})")
        self.name = name
        self.errno = errno
        self.strerror = STRERROR[errno]


class ReplyKind(Enum):
    """What a received message means for the query in flight (glibc's send_dg decisions)."""

    IGNORE = "not an answer to this query: keep waiting"
    NEXT_SERVER = "the server refused or failed: try the next one"
    TRUNCATED = "TC set: ask the same server over TCP"
    FINAL = "the answer: addresses, or NXDOMAIN / NODATA"


@dataclass(frozen=True, slots=True)
class Reply:
    """A received message classified: for FINAL, the rcode, the addresses and the canonical name."""

    kind: ReplyKind
    rcode: int = DNSRcode.NOERROR
    addresses: tuple[IPv4Address, ...] = ()
    canonical: str = ""
    aliases: tuple[str, ...] = ()  # the names whose CNAMEs led to `canonical`, in chain order


@dataclass(frozen=True, slots=True)
class HostEntry:
    """A lookup's result, shaped like gethostbyname_ex(): canonical name, aliases, addresses."""

    name: str
    aliases: tuple[str, ...]
    addresses: tuple[IPv4Address, ...]


def build_query(name: str, query_id: int) -> bytes:
    """The A query glibc sends: one question, RD set, no EDNS."""
    return Packet([DNS.query(name, DNSType.A, id=query_id)]).encode()


def read_reply(data: bytes, query_id: int, name: str) -> Reply:
    """Classify a message received for the A query (`query_id`, `name`), as glibc's send_dg and getanswer do."""
    if len(data) < 12 or int.from_bytes(data[:2], "big") != query_id or not data[2] & 0x80:
        return Reply(ReplyKind.IGNORE)  # short, another query's answer (res_send's id check), or not a reply
    try:
        message = DNS.decode(data)
    except LayersimError:
        # Not parsed: a TC answer still sends us to TCP; anything else is the server's failure.
        return Reply(ReplyKind.TRUNCATED if data[2] & 0x02 else ReplyKind.NEXT_SERVER)
    question = [(q.name.lower(), q.qtype) for q in message.questions]
    if question != [(name.lower(), DNSType.A)]:
        return Reply(ReplyKind.IGNORE)  # res_queriesmatch: not the question we asked
    if message.rcode in (DNSRcode.SERVFAIL, DNSRcode.NOTIMP, DNSRcode.REFUSED):
        return Reply(ReplyKind.NEXT_SERVER, message.rcode)
    if (message.rcode == DNSRcode.NOERROR and not message.answers and not message.aa and not message.ra
            and not message.additionals):
        return Reply(ReplyKind.NEXT_SERVER)  # a referral: a stub resolver cannot use it
    if message.tc:
        return Reply(ReplyKind.TRUNCATED)
    current, addresses, aliases = name.lower(), [], []
    for record in message.answers:  # follow the CNAME chain in answer order, as getanswer does
        if record.name.lower() != current:
            continue
        if record.rtype == DNSType.CNAME and isinstance(record.value, str):
            aliases.append(current)
            current = record.value.lower()
        elif record.rtype == DNSType.A and isinstance(record.value, IPv4Address):
            addresses.append(record.value)
    return Reply(ReplyKind.FINAL, message.rcode, tuple(addresses), current, tuple(aliases))


def server_timeout(timeout: float, index: int, count: int) -> float:
    """Seconds to wait for nameserver `index` of `count`: glibc's send_dg gives (timeout << index) / count
    to every server after the first (so the second of two waits as long as the first), at least 1 unit."""
    seconds = timeout if index == 0 else timeout * (1 << index) / count
    return seconds if seconds > 0 else 1.0


def parse_hosts(text: str) -> dict[str, IPv4Address]:
    """An /etc/hosts file's IPv4 entries: name (and alias) -> address; the first line for a name wins."""
    out: dict[str, IPv4Address] = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        try:
            address = IPv4Address(words[0])
        except ValueError:
            continue  # IPv6 and malformed lines are not for an IPv4 resolver
        for name in words[1:]:
            out.setdefault(name.lower().rstrip("."), address)
    return out


@dataclass(slots=True)
class ResolverConfig:
    """What /etc/resolv.conf says: up to three nameservers and `options timeout:N attempts:N`."""

    nameservers: list[IPv4Address] = field(default_factory=list)
    timeout: float = 5.0  # RES_TIMEOUT
    attempts: int = 2  # RES_DFLRETRY

    @classmethod
    def parse(cls, text: str) -> ResolverConfig:
        """Read resolv.conf text the way glibc does: unknown lines ignored, options clamped to glibc's limits."""
        config = cls()
        for line in text.splitlines():
            words = line.split()
            if not words or words[0][0] in "#;":
                continue
            if words[0] == "nameserver" and len(words) > 1 and len(config.nameservers) < MAXNS:
                try:
                    config.nameservers.append(IPv4Address(words[1]))
                except ValueError:
                    continue
            elif words[0] == "options":
                for option in words[1:]:
                    key, _, value = option.partition(":")
                    if key in ("timeout", "attempts") and value.isdigit():
                        if key == "timeout":
                            config.timeout = min(int(value), RES_MAXRETRANS)
                        else:
                            config.attempts = min(int(value), RES_MAXRETRY)
        return config


class Resolver:
    """Name to IPv4 addresses: hosts entries, then A queries to the nameservers with timeout and retries."""

    def __init__(self, sock_mod: Any, nameservers: Sequence[str | IPv4Address], *, rng: random.Random,
                 clock: Callable[[], float], hosts: Mapping[str, str | IPv4Address] | None = None,
                 timeout: float = 5.0, attempts: int = 2, port: int = 53) -> None:
        self.sock_mod = sock_mod
        self.nameservers = [IPv4Address(ns) for ns in nameservers][:MAXNS]
        self.rng = rng
        self.clock = clock
        self.hosts = {name.lower().rstrip("."): IPv4Address(a) for name, a in (hosts or {}).items()}
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.port = port

    @classmethod
    def from_config(cls, sock_mod: Any, config: ResolverConfig, *, rng: random.Random,
                    clock: Callable[[], float], hosts: Mapping[str, str | IPv4Address] | None = None,
                    port: int = 53) -> Resolver:
        """A resolver set up from parsed resolv.conf settings."""
        return cls(sock_mod, config.nameservers, rng=rng, clock=clock, hosts=hosts, timeout=config.timeout,
                   attempts=config.attempts, port=port)

    def resolve(self, name: str) -> list[IPv4Address]:
        """The IPv4 addresses of `name`, in the order the answer gives them; ResolveError when there are none."""
        return list(self.lookup(name).addresses)

    def lookup(self, name: str) -> HostEntry:
        """Canonical name, aliases and IPv4 addresses of `name` (gethostbyname_ex's triple); ResolveError when
        there are no addresses."""
        try:
            return HostEntry(name, (), (IPv4Address(name),))  # a dotted quad needs no lookup
        except ValueError:
            pass
        key = name.lower().rstrip(".")
        if key in self.hosts:
            return HostEntry(key, (), (self.hosts[key],))
        try:
            qname = check_name(name)
        except LayersimError as exc:
            raise ResolveError(name, GaiError.EAI_NONAME, str(exc)) from None
        if not self.nameservers:
            raise ResolveError(name, GaiError.EAI_AGAIN, "no nameserver configured")
        reply = self._ask(qname)
        if reply.rcode == DNSRcode.NXDOMAIN:
            raise ResolveError(name, GaiError.EAI_NONAME, "NXDOMAIN")
        if reply.rcode != DNSRcode.NOERROR:
            raise ResolveError(name, GaiError.EAI_FAIL, f"the nameserver answered {DNSRcode(reply.rcode).name}")
        if not reply.addresses:
            raise ResolveError(name, GaiError.EAI_NODATA, "the name has no A record")
        return HostEntry(reply.canonical, reply.aliases, reply.addresses)

    def _ask(self, qname: str) -> Reply:
        """Each attempt asks every nameserver in turn (glibc's res_send loop); TC moves to TCP for good."""
        query_id = self.rng.getrandbits(16)
        query = build_query(qname, query_id)
        sockets: dict[int, Any] = {}  # one UDP socket per server for the whole lookup, as glibc keeps them
        use_tcp, failures = False, []
        try:
            for _ in range(self.attempts):
                for index, server in enumerate(self.nameservers):
                    wait = server_timeout(self.timeout, index, len(self.nameservers))
                    reply = None
                    if not use_tcp:
                        reply = self._udp(sockets, index, (str(server), self.port), query, query_id, qname, wait)
                        use_tcp = reply is not None and reply.kind is ReplyKind.TRUNCATED
                    if use_tcp:
                        reply = self._tcp((str(server), self.port), query, query_id, qname, wait)
                    if reply is not None and reply.kind is ReplyKind.FINAL:
                        return reply
                    failures.append(f"{server}: {_failure(reply)}")
                if use_tcp:
                    break  # glibc: "Use VC; at most one attempt per server"
        finally:
            for sock in sockets.values():
                sock.close()
        raise ResolveError(qname, GaiError.EAI_AGAIN, "no usable answer (" + "; ".join(failures) + ")")

    def _udp(self, sockets: dict[int, Any], index: int, server: tuple[str, int], query: bytes, query_id: int,
             qname: str, wait: float) -> Reply | None:
        """Send the query over UDP and wait up to `wait` seconds for a reply that is not to be ignored."""
        sm = self.sock_mod
        sock = sockets.get(index)
        reply = None
        try:
            if sock is None:
                sock = sockets[index] = sm.socket(sm.AF_INET, sm.SOCK_DGRAM)
                sock.connect(server)  # connected, as glibc's: only this server's datagrams, ICMP errors seen
            sock.send(query)
            deadline = self.clock() + wait
            while (left := deadline - self.clock()) > 0:
                sock.settimeout(left)
                reply = read_reply(sock.recv(65535), query_id, qname)
                if reply.kind is ReplyKind.NEXT_SERVER:
                    break  # glibc closes the socket before moving on
                if reply.kind is not ReplyKind.IGNORE:
                    return reply
            else:
                return None
        except TimeoutError:
            return None  # the socket stays open: a late answer to this id is still welcome next time
        except OSError:  # refused (ICMP port unreachable), unreachable network: glibc closes and moves on
            reply = None
        if sock is not None:
            sock.close()
        sockets.pop(index, None)
        return reply

    def _tcp(self, server: tuple[str, int], query: bytes, query_id: int, qname: str, wait: float) -> Reply | None:
        """Ask over TCP (length-prefixed, RFC 1035 §4.2.2), all within `wait` seconds."""
        sm = self.sock_mod
        sock = sm.socket(sm.AF_INET, sm.SOCK_STREAM)
        try:
            sock.settimeout(wait)
            sock.connect(server)
            sock.sendall(len(query).to_bytes(2, "big") + query)
            while (prefix := recv_exact(sock, 2)) is not None:
                data = recv_exact(sock, int.from_bytes(prefix, "big"))
                if data is None:
                    break
                reply = read_reply(data, query_id, qname)
                if reply.kind is not ReplyKind.IGNORE:
                    return None if reply.kind is ReplyKind.TRUNCATED else reply
        except OSError:  # timeouts, refused and reset connections included
            pass
        finally:
            sock.close()
        return None


def _failure(reply: Reply | None) -> str:
    """Why a server gave no usable answer, for the error message."""
    if reply is None:
        return "no answer"
    if reply.kind is ReplyKind.NEXT_SERVER:
        return f"rcode {DNSRcode(reply.rcode).name}" if reply.rcode else "a referral"
    return reply.kind.name.lower()
