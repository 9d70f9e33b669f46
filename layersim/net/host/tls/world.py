"""One network's TLS world: its certificate authority, the trust store of its processes, the key log.

The real ssl module does the TLS. What the simulation adds: a client context is copied into one that also trusts
the simulated CA (so requests' `verify=True`, `ssl.create_default_context()` and certifi's bundle accept the
simulated servers, and no context outside the run ever learns to trust a CA whose key the seed gives away), and
every connection logs its secrets (SSLContext.keylog_filename's NSS format) to one file, whose new lines go to the
network's captures as pcapng Decryption Secrets Blocks before the bytes they decrypt are sent.
"""

from __future__ import annotations

import ssl
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from layersim.net.host.tls.authority import CertificateAuthority

__all__ = ["TLSWorld"]

SecretsSink = Callable[[bytes], None]


def _settings(context: ssl.SSLContext) -> tuple[Any, ...]:
    """What a client context's copy depends on (a change rebuilds the copy)."""
    return (context.verify_mode, context.check_hostname, int(context.options), context.minimum_version,
            context.maximum_version, int(context.verify_flags), context.hostname_checks_common_name,
            context.cert_store_stats().get("x509_ca", 0), tuple(getattr(context, "_layersim_alpn", ()) or ()))


class TLSWorld:
    """The TLS side of one network: made lazily, files in a temporary directory removed with it."""

    def __init__(self, seed: int, sink: SecretsSink) -> None:
        self.seed = seed
        self._sink = sink
        self._ca: CertificateAuthority | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._keylog_read = 0
        self._seen_lines: set[bytes] = set()
        self._clients: weakref.WeakKeyDictionary[ssl.SSLContext, tuple[tuple[Any, ...], ssl.SSLContext]] = \
            weakref.WeakKeyDictionary()
        self._servers: dict[tuple[tuple[str, ...], bool], ssl.SSLContext] = {}

    @property
    def ca(self) -> CertificateAuthority:
        """The simulated root CA (keys from the seed)."""
        if self._ca is None:
            self._ca = CertificateAuthority(self.seed)
        return self._ca

    @property
    def directory(self) -> Path:
        """Where the CA bundle, server keys and the key log live while the world does."""
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="layersim-tls-")
        return Path(self._dir.name)

    @property
    def ca_file(self) -> str:
        """A PEM file holding the simulated CA: what certifi.where() answers inside a process."""
        path = self.directory / "ca.pem"
        if not path.exists():
            path.write_bytes(self.ca.cert_pem)
        return str(path)

    @property
    def keylog_file(self) -> str:
        """The NSS key log every simulated TLS connection writes to."""
        return str(self.directory / "keylog.txt")

    def client_context(self, context: ssl.SSLContext) -> ssl.SSLContext:
        """`context`'s settings, the CAs it trusts plus the simulated CA, and the key log."""
        key = _settings(context)
        cached = self._clients.get(context)
        if cached is not None and cached[0] == key:
            return cached[1]
        copy = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        copy.check_hostname = False
        copy.verify_mode = context.verify_mode
        copy.check_hostname = context.check_hostname
        copy.options = context.options
        copy.minimum_version = context.minimum_version
        copy.maximum_version = context.maximum_version
        copy.verify_flags = context.verify_flags
        copy.hostname_checks_common_name = context.hostname_checks_common_name
        if key[-1]:
            copy.set_alpn_protocols(list(key[-1]))
        if context.verify_mode != ssl.CERT_NONE:
            known = context.get_ca_certs(binary_form=True)
            if known:
                copy.load_verify_locations(cadata=b"".join(known))
            copy.load_verify_locations(cadata=self.ca.cert_pem.decode("ascii"))
        copy.keylog_filename = self.keylog_file
        self._clients[context] = (key, copy)
        return copy

    def server_context(self, names: list[str], *, expired: bool = False) -> ssl.SSLContext:
        """A server context with a certificate the simulated CA issued for `names` (an expired one if asked)."""
        key = (tuple(names), expired)
        context = self._servers.get(key)
        if context is None:
            issued = self.ca.issue(names, expired=expired)
            stem = f"server{len(self._servers)}"
            cert, private = self.directory / f"{stem}.pem", self.directory / f"{stem}.key"
            cert.write_bytes(issued.cert_pem)
            private.write_bytes(issued.key_pem)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, private)
            context.set_alpn_protocols(["http/1.1"])
            context.keylog_filename = self.keylog_file
            self._servers[key] = context
        return context

    def log_keys_of(self, context: ssl.SSLContext) -> None:
        """Make a server context a program built log its secrets too (left alone if it logs elsewhere)."""
        if context.keylog_filename is None:
            context.keylog_filename = self.keylog_file

    def collect(self) -> None:
        """Hand the key log's new lines (each secret once) to the captures."""
        if self._dir is None:
            return
        path = Path(self.keylog_file)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        if size <= self._keylog_read:
            return
        with path.open("rb") as file:
            file.seek(self._keylog_read)
            data = file.read(size - self._keylog_read)
        end = data.rfind(b"\n") + 1  # a line OpenSSL is still writing waits for the next look
        self._keylog_read += end
        fresh = [line for line in data[:end].splitlines(keepends=True)
                 if line.strip() and not line.startswith(b"#") and line not in self._seen_lines]
        if fresh:
            self._seen_lines.update(fresh)
            self._sink(b"".join(fresh))
