# Tests of the frame socket's two readers: the reader thread, and the event loop once it takes over.
from __future__ import annotations

import importlib.util
import select
import socket
import threading
import unittest
from typing import Any, List, Optional, Tuple
from unittest import mock

from bicorn_runner import connection as connection_module
from bicorn_runner import frames as f
from bicorn_runner.asgi_server import AsgiServer
from bicorn_runner.connection import Connection, ConnectionLost

TIMEOUT = 10
# uvloop's transport is C, asyncio's Python: both must flush and close alike.
LOOPS = ["asyncio"] + (["uvloop"] if importlib.util.find_spec("uvloop") is not None else [])


async def noop_app(scope: Any, receive: Any, send: Any) -> None:
    return None


class Peer:
    """The worker's end of a socketpair: reads what the runner writes, on a thread, to EOF."""

    def __init__(self, test: unittest.TestCase) -> None:
        self.sock, runner_sock = socket.socketpair()
        self.connection = Connection(runner_sock)
        test.addCleanup(self.sock.close)
        test.addCleanup(runner_sock.close)
        self.sock.settimeout(TIMEOUT)
        self.received = bytearray()
        self.eof = threading.Event()
        self._reader: Optional[threading.Thread] = None

    def read_to_eof(self) -> None:
        def read() -> None:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    self.eof.set()
                    return
                self.received += data
        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()

    def frames(self) -> List[f.Frame]:
        return f.FrameDecoder().feed(bytes(self.received))


class ReaderThreadTest(unittest.TestCase):
    def test_reads_with_plain_blocking_recv_once_told_no_loop_takes_over(self) -> None:
        peer = Peer(self)
        got: List[f.Frame] = []
        arrived = threading.Event()

        def on_frame(frame: f.Frame) -> None:
            got.append(frame)
            arrived.set()

        with mock.patch.object(connection_module.select, "select",
                               side_effect=AssertionError("select() after keep_reading()")):
            peer.connection.keep_reading()
            peer.connection.start_reader(on_frame, lambda error: got.append(error))
            peer.sock.sendall(f.encode(f.Shutdown(0)))
            self.assertTrue(arrived.wait(TIMEOUT))
        self.assertEqual(got, [f.Shutdown(0)])

    def test_frames_keep_their_bytes_after_the_reads_that_follow(self) -> None:
        # The reader reads into one buffer again and again: a body frame held on to (a WSGI
        # body waiting for its app) must not see the next read's bytes.
        peer = Peer(self)
        got: List[f.Frame] = []
        bodies = [bytes([index]) * 1000 for index in range(1, 6)]
        arrived = threading.Semaphore(0)

        def on_frame(frame: f.Frame) -> None:
            got.append(frame)
            arrived.release()

        peer.connection.keep_reading()
        peer.connection.start_reader(on_frame, lambda error: None)
        for body in bodies:
            peer.sock.sendall(f.encode(f.HttpBody(1, True, body)))
            self.assertTrue(arrived.acquire(timeout=TIMEOUT))
        self.assertEqual([bytes(frame.body) for frame in got if isinstance(frame, f.HttpBody)], bodies)

    def test_reports_the_end_of_the_socket_once(self) -> None:
        peer = Peer(self)
        lost: List[Optional[BaseException]] = []
        ended = threading.Event()

        def on_lost(error: Optional[BaseException]) -> None:
            lost.append(error)
            ended.set()

        peer.connection.start_reader(lambda frame: None, on_lost)
        peer.sock.shutdown(socket.SHUT_WR)
        self.assertTrue(ended.wait(TIMEOUT))
        peer.connection._lost(None)
        self.assertEqual(lost, [None])


class HeldWritesTest(unittest.TestCase):
    """hold_writes: the responses of calls made one after another leave in one write."""

    def pending(self, sock: socket.socket) -> bytes:
        """What one read takes at once, without waiting."""
        readable, _, _ = select.select([sock], [], [], 0)
        return sock.recv(1 << 20) if readable else b""

    def test_held_frames_leave_in_order_with_the_next_write_that_is_not_held(self) -> None:
        peer = Peer(self)
        conn = peer.connection
        reused = bytearray(b"one")
        conn.hold_writes(True)
        conn.send(f.HttpResponse(1, 200, []), f.HttpResponseBody(1, False, reused), may_wait=True)
        # The app may reuse its buffer once send() has returned: what is held is a copy.
        reused[:] = b"XXX"
        conn.send(f.HttpResponseBody(2, False, b"two"), may_wait=True)
        self.assertEqual(self.pending(peer.sock), b"")
        conn.hold_writes(False)
        conn.send(f.HttpResponseBody(3, False, b"three"), may_wait=True)
        expected = [f.HttpResponse(1, 200, []), f.HttpResponseBody(1, False, b"one"),
                    f.HttpResponseBody(2, False, b"two"), f.HttpResponseBody(3, False, b"three")]
        # One write: one read takes all of it.
        self.assertEqual(f.FrameDecoder().feed(self.pending(peer.sock)), expected)

    def test_release_writes_what_is_held_and_holds_no_more(self) -> None:
        peer = Peer(self)
        conn = peer.connection
        conn.hold_writes(True)
        conn.send(f.HttpResponseBody(1, False, b"one"), may_wait=True)
        conn.release_writes()
        self.assertEqual(f.FrameDecoder().feed(self.pending(peer.sock)),
                         [f.HttpResponseBody(1, False, b"one")])
        conn.send(f.HttpResponseBody(2, False, b"two"), may_wait=True)
        self.assertEqual(f.FrameDecoder().feed(self.pending(peer.sock)),
                         [f.HttpResponseBody(2, False, b"two")])
        conn.release_writes()
        self.assertEqual(self.pending(peer.sock), b"")

    def test_frames_that_may_not_wait_take_what_is_held_along(self) -> None:
        peer = Peer(self)
        conn = peer.connection
        conn.hold_writes(True)
        conn.send(f.HttpResponseBody(1, False, b"one"), may_wait=True)
        # A body still streaming, a credit, a PONG: none waits while a response ends.
        conn.send(f.HttpResponseBody(2, True, b"part"))
        self.assertEqual(f.FrameDecoder().feed(self.pending(peer.sock)),
                         [f.HttpResponseBody(1, False, b"one"),
                          f.HttpResponseBody(2, True, b"part")])

    def test_a_large_write_or_a_full_hold_is_not_held(self) -> None:
        peer = Peer(self)
        conn = peer.connection
        peer.read_to_eof()
        large = b"L" * connection_module._JOIN_BELOW
        conn.hold_writes(True)
        conn.send(f.HttpResponseBody(1, False, b"small"), may_wait=True)
        conn.send(f.HttpResponseBody(2, False, large), may_wait=True)
        # Under the bound each, but not together: the second leaves with the first.
        half = b"H" * (connection_module._JOIN_BELOW // 2)
        conn.send(f.HttpResponseBody(3, False, half), may_wait=True)
        conn.send(f.HttpResponseBody(4, False, half), may_wait=True)
        conn.send(f.HttpResponseBody(5, False, b"end"), may_wait=True)
        conn.close()
        self.assertTrue(peer.eof.wait(TIMEOUT))
        # Sent without release_writes: stream 5's frame was still held when the socket closed.
        self.assertEqual(peer.frames(), [f.HttpResponseBody(1, False, b"small"),
                                         f.HttpResponseBody(2, False, large),
                                         f.HttpResponseBody(3, False, half),
                                         f.HttpResponseBody(4, False, half)])

    def test_held_frames_the_worker_can_no_longer_take_are_a_lost_connection(self) -> None:
        peer = Peer(self)
        conn = peer.connection
        conn.hold_writes(True)
        conn.send(f.HttpResponseBody(1, False, b"one"), may_wait=True)
        peer.sock.close()
        with self.assertRaises(ConnectionLost):
            conn.release_writes()


class SendBufferTest(unittest.TestCase):
    def send_buffer(self, peer: Peer) -> int:
        return peer.connection._sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)

    def test_grows_to_a_window_as_far_as_the_system_allows(self) -> None:
        peer = Peer(self)
        window = 1024 * 1024
        try:
            with open("/proc/sys/net/core/wmem_max") as limit:
                allowed = min(window, int(limit.read()))
        except OSError:
            self.skipTest("no /proc/sys/net/core/wmem_max to know the system's limit by")
        peer.connection.fit_send_buffer(window)
        # Linux keeps twice what was asked (capped at wmem_max), for its own bookkeeping: more
        # than its default (wmem_default), even where wmem_max is that default.
        self.assertEqual(self.send_buffer(peer), 2 * allowed)

    def test_never_shrinks_below_what_the_system_gave(self) -> None:
        peer = Peer(self)
        before = self.send_buffer(peer)
        peer.connection.fit_send_buffer(4096)
        self.assertEqual(self.send_buffer(peer), before)


class LoopConnectionTest(unittest.TestCase):
    def serve_on_loop(self, kind: str,
                      on_lost: Any = lambda error: None) -> Tuple[Peer, AsgiServer]:
        peer = Peer(self)
        server = AsgiServer(noop_app, kind)
        server.start()
        self.addCleanup(server.destroy)
        peer.connection.start_reader(lambda frame: None, on_lost)
        peer.connection.read_on_loop(server.loop, lambda frame: None)
        return peer, server

    def test_writes_what_its_transport_buffered_before_the_loop_stops(self) -> None:
        # Far more than the socket takes at once: most of it waits in the transport's buffer.
        body = bytes(range(256)) * 32 * 1024
        frames = [f.HttpResponseBody(1, True, body[i:i + 256 * 1024])
                  for i in range(0, len(body), 256 * 1024)]
        for kind in LOOPS:
            with self.subTest(kind):
                peer, server = self.serve_on_loop(kind)

                async def send_all() -> None:
                    for frame in frames:
                        peer.connection.send(frame)

                server.run(send_all())
                peer.read_to_eof()
                server.run(peer.connection.close_on_loop())
                server.destroy()
                self.assertTrue(peer.eof.wait(TIMEOUT), "the runner's end was never closed")
                self.assertEqual(b"".join(bytes(frame.body) for frame in peer.frames()), body)

    def test_copies_a_bytearray_the_app_reuses_once_send_returned(self) -> None:
        for kind in LOOPS:
            with self.subTest(kind):
                peer, server = self.serve_on_loop(kind)
                reused = bytearray(b"first")
                view_of_bytes = memoryview(b"-kept-")[1:5]

                async def send_twice() -> None:
                    peer.connection.send(f.HttpResponseBody(1, True, reused))
                    reused[:] = b"again"
                    peer.connection.send(f.HttpResponseBody(1, True, reused),
                                         f.HttpResponseBody(1, False, view_of_bytes))

                server.run(send_twice())
                peer.read_to_eof()
                server.run(peer.connection.close_on_loop())
                self.assertTrue(peer.eof.wait(TIMEOUT))
                self.assertEqual([bytes(frame.body) for frame in peer.frames()],
                                 [b"first", b"again", b"kept"])

    def test_the_runner_closing_its_end_is_no_loss_to_report(self) -> None:
        for kind in LOOPS:
            with self.subTest(kind):
                lost: List[Optional[BaseException]] = []
                peer, server = self.serve_on_loop(kind, lost.append)
                peer.read_to_eof()
                server.run(peer.connection.close_on_loop())
                self.assertTrue(peer.eof.wait(TIMEOUT))
                self.assertEqual(lost, [])


if __name__ == "__main__":
    unittest.main()
