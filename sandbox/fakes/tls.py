"""A throwaway certificate authority for fakes that must speak HTTPS (the `pagerduty` client refuses http)."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme


class LoopbackCA:
    """Issues a certificate for 127.0.0.1/localhost and tells clients to trust it."""

    def __init__(self) -> None:
        self._ca = trustme.CA()
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost")

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def write_pem(self, path: Path) -> Path:
        """Write the CA certificate where a client (or SSL_CERT_FILE) can read it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._ca.cert_pem.write_to_path(str(path))
        return path
