"""A TCP proxy a test can cut: a real network drop between two real processes.

    proxy = TcpProxy("127.0.0.1", 8765).start()   # listens on proxy.port
    proxy.drop()                                   # severs every open connection
    proxy.stop()

It keeps accepting after a drop (the peer can reconnect); `connections` counts the
connections it accepted, so a test can wait for a reconnect.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(
        self, target_host: str, target_port: int, listen_host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server((listen_host, port))
        self.port = int(self._listener.getsockname()[1])
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self.connections = 0
        self._stopped = False

    def start(self) -> TcpProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def drop(self) -> None:
        """Cut every connection now (both directions, without a WebSocket close frame)."""
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def stop(self) -> None:
        self._stopped = True
        self._listener.close()
        self.drop()
