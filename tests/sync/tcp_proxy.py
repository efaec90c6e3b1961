"""A TCP relay on 127.0.0.1 between client and server that can drop or hold a push.

Real sockets on both sides: the client sees exactly what a flaky network or a
dying server would show it.
"""

from __future__ import annotations

import contextlib
import socket
import threading

PUSH_MARK = b"/bundles HTTP/1.1"


class Proxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.drop_next_push_response = False
        self.hold_next_push = False
        self.push_held = threading.Event()
        self.release = threading.Event()
        self.bytes_up = 0
        self.bytes_down = 0
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closing = True
        self.release.set()
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            state = {"push": False}
            threading.Thread(target=self._up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, state), daemon=True).start()

    def _up(self, src: socket.socket, dst: socket.socket, state: dict[str, bool]) -> None:
        try:
            while data := src.recv(65536):
                if b"POST " in data and PUSH_MARK in data:
                    state["push"] = True
                    if self.hold_next_push:
                        self.hold_next_push = False
                        dst.sendall(data[: len(data) // 2])  # the server sees half a request
                        self.push_held.set()
                        self.release.wait(30)
                        break
                self.bytes_up += len(data)
                dst.sendall(data)
        except OSError:
            pass
        _close(src, dst)

    def _down(self, src: socket.socket, dst: socket.socket, state: dict[str, bool]) -> None:
        try:
            while data := src.recv(65536):
                if state["push"] and self.drop_next_push_response:
                    # The server has committed the push; its answer never arrives.
                    self.drop_next_push_response = False
                    break
                state["push"] = False
                self.bytes_down += len(data)
                dst.sendall(data)
        except OSError:
            pass
        _close(src, dst)


def _close(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            s.close()
