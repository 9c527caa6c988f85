"""`serve --tls`: a certificate for the mock from a CA generated at start (trustme), served by werkzeug's
threaded server on the already-bound socket (waitress speaks no TLS). The CA's PEM file is written to a
private folder removed at exit, and its path printed, for clients' `--ca-bundle`. With
`--tls-client-ca`, the server also asks for a client certificate (mutual TLS) and refuses a handshake
without one that CA signed."""
from __future__ import annotations

import os
import shutil
import socket
import ssl
import tempfile
from dataclasses import dataclass
from typing import Any

import trustme
from cryptography.hazmat.primitives import serialization
from werkzeug.serving import make_server


@dataclass
class ServerTLS:
    context: ssl.SSLContext
    ca_file: str
    folder: str
    cert_file: str = ""  # the server's certificate chain (PEM), for servers that take files
    key_pem: bytes = b""  # its private key, PKCS#8 PEM (what granian reads); on disk only through write_key
    client_ca: str | None = None

    def write_key(self) -> str:
        """The private key written (mode 0600) into the private folder; its path."""
        path = os.path.join(self.folder, "key.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.key_pem)
        return path

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def server_tls(host: str, client_ca: str | None = None) -> ServerTLS:
    """A CA and a server certificate for `host` (and localhost, 127.0.0.1, ::1); the CA PEM on disk."""
    ca = trustme.CA(organization_name="mock_clockwise serve --tls")
    names = list(dict.fromkeys([host, "localhost", "127.0.0.1", "::1"]))
    cert = ca.issue_cert(*names)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=client_ca)
    folder = tempfile.mkdtemp(prefix="mock_clockwise-tls-")
    os.chmod(folder, 0o700)
    ca_file = os.path.join(folder, "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    cert_file = os.path.join(folder, "cert.pem")
    with open(cert_file, "wb") as f:
        f.write(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    key = serialization.load_pem_private_key(cert.private_key_pem.bytes(), password=None)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return ServerTLS(context, ca_file, folder, cert_file, key_pem, client_ca)


def serve_tls(app: Any, sock: socket.socket, tls: ServerTLS) -> None:
    """Serve `app` over TLS on `sock` until KeyboardInterrupt (SIGINT, or SIGTERM as main() maps it)."""
    host, port = sock.getsockname()[:2]
    server = make_server(host, port, app, threaded=True, ssl_context=tls.context, fd=sock.fileno())
    try:
        server.serve_forever()
    finally:
        server.server_close()
