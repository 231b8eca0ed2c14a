"""A TCP forwarder in front of the test server that a test can cut and restore (a real network fault)."""

from __future__ import annotations

import socket
import threading

import psycopg


def _upstream_address(url: str):
    info = psycopg.conninfo.conninfo_to_dict(url)
    host, port = info.get("host") or "localhost", int(info.get("port") or 5432)
    if host.startswith("/"):
        return socket.AF_UNIX, f"{host}/.s.PGSQL.{port}"
    return socket.AF_INET, (host, port)


class Proxy:
    def __init__(self, upstream_url: str):
        self.family, self.address = _upstream_address(upstream_url)
        self.port = None
        self._listener = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def url_for(self, upstream_url: str) -> str:
        info = psycopg.conninfo.conninfo_to_dict(upstream_url)
        info.update(host="127.0.0.1", port=str(self.port))
        return psycopg.conninfo.make_conninfo(**info)

    def start(self) -> "Proxy":
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port or 0))
        self.port = self._listener.getsockname()[1]
        self._listener.listen(16)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(self.family)
            try:
                upstream.connect(self.address)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() so the port is free again
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self._conns.clear()

    def restore(self) -> None:
        self.start()
