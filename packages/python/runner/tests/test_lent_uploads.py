# Tests of the request bodies the runner receives from lent client sockets (lent_uploads.py), and
# of the dispatcher's part: HTTP_RECEIVE, the loan, HTTP_RECEIVED, the request with HELD.
from __future__ import annotations

import socket
import unittest
from typing import Any, List

from bicorn_runner.dispatch import Dispatcher
from bicorn_runner.frames import (HttpBorrow, HttpDisconnect, HttpNotLent, HttpReceive,
                                  HttpReceived, ProtocolError)
from bicorn_runner.lent_uploads import LentUploads
from bicorn_runner.streams import Stream

from .fakes import FakeConnection, request

STREAM = 3


class LentUploadsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.conn = FakeConnection()
        self.uploads = LentUploads(self.conn.send)
        # The worker's end of the client's connection stands for the client.
        self.client, lent = socket.socketpair()
        lent.setblocking(False)
        self.lent = lent

    def tearDown(self) -> None:
        self.client.close()
        self.lent.close()

    def finals(self) -> List[HttpReceived]:
        return [frame for frame in self.conn.of_type(HttpReceived) if not frame.more]

    def test_holds_the_whole_body_once_the_rest_came_from_the_socket(self) -> None:
        self.uploads.begin(STREAM, 10, memoryview(b"head"))
        self.assertTrue(self.uploads.lend(STREAM, self.lent))
        self.client.sendall(b"tail")
        self.client.sendall(b"ed")
        self.conn.wait_for("the body to come whole", lambda frames: bool(self.finals()))
        # Only the socket's bytes are reported: the worker sent the others.
        self.assertEqual(sum(frame.amount for frame in self.conn.of_type(HttpReceived)), 6)
        held = self.uploads.take(STREAM)
        assert held is not None
        self.assertEqual(b"".join(bytes(piece) for piece in held), b"headtailed")
        self.assertIsNone(self.uploads.take(STREAM))
        # The runner's descriptor is closed once the body is in.
        self.assertEqual(self.lent.fileno(), -1)

    def test_reads_no_byte_past_the_body(self) -> None:
        self.uploads.begin(STREAM, 4, memoryview(b""))
        self.client.sendall(b"bodyGET / HTTP/1.1\r\n")
        # Lent a descriptor of its own, as the worker's: the test keeps the socket.
        self.uploads.lend(STREAM, self.lent.dup())
        self.conn.wait_for("the body to come whole", lambda frames: bool(self.finals()))
        held = self.uploads.take(STREAM)
        assert held is not None
        self.assertEqual(b"".join(bytes(piece) for piece in held), b"body")
        # What follows is the next request's, left on the connection for the worker.
        self.lent.setblocking(True)
        self.assertEqual(self.lent.recv(100), b"GET / HTTP/1.1\r\n")

    def test_reports_what_came_while_the_rest_is_awaited(self) -> None:
        self.uploads.begin(STREAM, 100, memoryview(b""))
        self.uploads.lend(STREAM, self.lent)
        self.client.sendall(b"x" * 30)
        self.conn.wait_for("a report of the bytes so far",
                           lambda frames: any(isinstance(f, HttpReceived) for f in frames))
        self.assertEqual(self.conn.of_type(HttpReceived), [HttpReceived(STREAM, True, 30)])
        self.uploads.cancel(STREAM)

    def test_drops_the_body_of_a_client_that_leaves(self) -> None:
        self.uploads.begin(STREAM, 100, memoryview(b"start"))
        self.uploads.lend(STREAM, self.lent)
        self.client.sendall(b"x" * 10)
        self.client.close()
        self.conn.wait_for("the upload to end", lambda frames: bool(self.finals()))
        self.assertEqual(sum(frame.amount for frame in self.conn.of_type(HttpReceived)), 10)
        self.assertIsNone(self.uploads.take(STREAM))
        self.assertEqual(self.lent.fileno(), -1)

    def test_stops_at_a_disconnect_and_says_so_once(self) -> None:
        self.uploads.begin(STREAM, 100, memoryview(b""))
        self.uploads.lend(STREAM, self.lent)
        self.assertTrue(self.uploads.cancel(STREAM))
        self.conn.wait_for("the upload to end", lambda frames: bool(self.finals()))
        self.assertEqual(self.lent.fileno(), -1)
        self.assertFalse(self.uploads.cancel(STREAM))
        self.assertIsNone(self.uploads.take(STREAM))
        self.assertEqual(len(self.finals()), 1)

    def test_drops_a_body_not_lent_without_a_word(self) -> None:
        self.uploads.begin(STREAM, 100, memoryview(b""))
        self.assertTrue(self.uploads.cancel(STREAM))
        # A loan that comes after all is not taken: the caller closes it.
        self.assertFalse(self.uploads.lend(STREAM, self.lent))
        self.assertEqual(self.conn.frames, [])

    def test_drops_a_held_body_at_a_disconnect(self) -> None:
        self.uploads.begin(STREAM, 2, memoryview(b""))
        self.uploads.lend(STREAM, self.lent)
        self.client.sendall(b"ok")
        self.conn.wait_for("the body to come whole", lambda frames: bool(self.finals()))
        self.assertTrue(self.uploads.cancel(STREAM))
        self.assertIsNone(self.uploads.take(STREAM))

    def test_receives_many_bodies_at_once_each_in_its_own_time(self) -> None:
        pairs = [socket.socketpair() for _ in range(8)]
        for stream, (_, lent) in enumerate(pairs, start=10):
            lent.setblocking(False)
            self.uploads.begin(stream, 3 * 65536, memoryview(b""))
            self.uploads.lend(stream, lent)
        for client, _ in pairs:
            client.sendall(b"a" * 65536)
        # Each client sends the rest in its own time: none waits for another.
        for client, _ in reversed(pairs):
            client.sendall(b"b" * (2 * 65536))
        self.conn.wait_for("every body to come whole", lambda frames: len(self.finals()) == 8)
        for stream in range(10, 18):
            held = self.uploads.take(stream)
            assert held is not None
            self.assertEqual(sum(len(piece) for piece in held), 3 * 65536)
        for client, lent in pairs:
            client.close()
            lent.close()


class DispatcherReceiveTest(unittest.TestCase):
    def setUp(self) -> None:
        self.conn = FakeConnection()
        self.dispatcher = Dispatcher(self.conn, 1024 * 1024)
        self.started: List[Stream] = []
        self.dispatcher.serve(self.started.append, lambda fn, arg: fn(arg))

    def test_answers_at_once_when_it_cannot_receive(self) -> None:
        self.dispatcher.on_frame(HttpReceive(STREAM, 10, memoryview(b"abc")))
        self.assertEqual(self.conn.frames, [HttpReceived(STREAM, False, 0)])

    def test_asks_for_the_socket_then_starts_the_request_with_the_body_it_holds(self) -> None:
        self.dispatcher.uploads = LentUploads(self.conn.send)
        self.dispatcher.on_frame(HttpReceive(STREAM, 7, memoryview(b"abc")))
        self.assertEqual(self.conn.frames, [HttpBorrow(STREAM)])
        client, lent = socket.socketpair()
        self.dispatcher.on_loan(STREAM, lent)
        client.sendall(b"defg")
        self.conn.wait_for("the body to come whole", lambda frames: any(
            isinstance(f, HttpReceived) and not f.more for f in frames))
        client.close()
        self.dispatcher.on_frame(request(STREAM, "POST", headers=[(b"content-length", b"7")])
                                 ._replace(held=True))
        [stream] = self.started
        body: Any = stream._body
        self.assertEqual(bytes(body.take_buffered()[0]), b"abcdefg")

    def test_refuses_a_request_whose_body_it_does_not_hold(self) -> None:
        self.dispatcher.uploads = LentUploads(self.conn.send)
        with self.assertRaises(ProtocolError):
            self.dispatcher.on_frame(request(STREAM, "POST")._replace(held=True))

    def test_drops_the_upload_at_not_lent_and_at_disconnect(self) -> None:
        self.dispatcher.uploads = LentUploads(self.conn.send)
        self.dispatcher.on_frame(HttpReceive(STREAM, 7, memoryview(b"abc")))
        self.dispatcher.on_frame(HttpNotLent(STREAM))
        self.dispatcher.on_frame(HttpReceive(STREAM + 1, 7, memoryview(b"")))
        self.dispatcher.on_frame(HttpDisconnect(STREAM + 1))
        client, lent = socket.socketpair()
        # Loans that come late are closed.
        for stream in (STREAM, STREAM + 1):
            dup = lent.dup()
            self.dispatcher.on_loan(stream, dup)
            self.assertEqual(dup.fileno(), -1)
        client.close()
        lent.close()
        self.assertEqual(self.conn.frames, [HttpBorrow(STREAM), HttpBorrow(STREAM + 1)])


if __name__ == "__main__":
    unittest.main()
