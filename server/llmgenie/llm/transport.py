"""An httpx client whose open connections can be torn down from another thread.

Cancelling a run must stop the in-flight model call at once, even while a worker thread is
blocked reading a stream that has gone quiet. Closing an httpx client from another thread
does not wake a blocked `recv`; shutting the socket down does. So the connection pool gets
a network backend that remembers every socket it opens, and `abort()` shuts them down: the
blocked read fails immediately and the provider sees the connection close.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx


class _TrackingBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, remembering the streams it opens."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._streams: list[httpcore.NetworkStream] = []
        self._lock = threading.Lock()
        self.aborted = False
        self.connected_at: float | None = None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if self.aborted:
            raise httpcore.ConnectError("call aborted")
        with self._lock:
            if self.connected_at is None:
                self.connected_at = time.monotonic()
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        with self._lock:
            self._streams.append(stream)
        return stream

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, timeout, socket_options)
        with self._lock:
            self._streams.append(stream)
        return stream

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def abort(self) -> int:
        """Shut down every socket opened so far; returns how many."""
        self.aborted = True
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            sock = stream.get_extra_info("socket")
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        return len(streams)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every call: loading the CA bundle costs ~0.2 s each time."""
    return httpx.create_ssl_context()


class AbortableHTTPClient:
    """One httpx.Client per model call, plus `abort()` to cut its connections."""

    def __init__(self, timeout: float) -> None:
        self._backend = _TrackingBackend()
        transport = httpx.HTTPTransport(verify=_ssl_context(), retries=0)
        pool = getattr(transport, "_pool", None)
        # Only a direct (non-proxy) pool is re-pointed; behind a proxy the call is abandoned
        # on cancel instead, and ends at its own timeout.
        self.tracking = isinstance(pool, httpcore.ConnectionPool) and hasattr(
            pool, "_network_backend"
        )
        if self.tracking:
            pool._network_backend = self._backend  # type: ignore[union-attr]
        self.client = httpx.Client(transport=transport, timeout=httpx.Timeout(timeout))

    @property
    def connected_at(self) -> float | None:
        """When the request started going out (monotonic), None before (or if untracked)."""
        return self._backend.connected_at if self.tracking else None

    def abort(self) -> None:
        """Stop the call now: shut the sockets down, then close the client."""
        self._backend.abort()
        with contextlib.suppress(Exception):
            self.client.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
