# Tests of the client sockets the worker lends (socket_loans.py): how they arrive on fd 5, and a
# stream's loan from HTTP_BORROW to its answer.
from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
import unittest
from typing import List, Tuple

from bicorn_runner.dispatch import Dispatcher
from bicorn_runner.socket_loans import STALL_S, SocketLoans, write_lent, write_lent_on
from bicorn_runner.streams import Stream

from .fakes import TIMEOUT, FakeConnection, request


class LoanChannelTest(unittest.TestCase):
    def test_hands_on_each_socket_with_the_stream_it_is_lent_for(self) -> None:
        worker_end, runner_end = socket.socketpair()
        client, other = socket.socketpair()
        loans: List[Tuple[int, socket.socket]] = []
        channel = SocketLoans.open(lambda stream, lent: loans.append((stream, lent)),
                                   runner_end.detach())
        assert channel is not None
        loop = asyncio.new_event_loop()
        try:
            channel.read_on(loop)
            socket.send_fds(worker_end, [struct.pack(">I", 7)], [client.fileno()])
            socket.send_fds(worker_end, [struct.pack(">I", 9)], [client.fileno()])
            loop.run_until_complete(_until(lambda: len(loans) == 2))
        finally:
            loop.close()
        self.assertEqual([stream for stream, _ in loans], [7, 9])
        # The descriptor is the lent socket's own: what is written to it reaches its peer.
        loans[0][1].sendall(b"hi")
        self.assertEqual(other.recv(2), b"hi")
        for _, lent in loans:
            self.assertFalse(lent.get_inheritable())
            lent.close()
        for sock in (worker_end, client, other):
            sock.close()

    def test_stops_reading_once_the_worker_is_gone(self) -> None:
        worker_end, runner_end = socket.socketpair()
        channel = SocketLoans.open(lambda stream, lent: None, runner_end.detach())
        assert channel is not None
        loop = asyncio.new_event_loop()
        fd = channel._channel.fileno()
        try:
            channel.read_on(loop)
            self.assertIn(fd, loop._selector.get_map())
            worker_end.close()
            # The channel's end is read on the loop: its reader goes once it has been.
            loop.run_until_complete(_until(lambda: fd not in loop._selector.get_map()))
        finally:
            loop.close()

    def test_is_none_without_a_channel(self) -> None:
        spare = socket.socket()
        fd = spare.detach()
        socket.socket(fileno=fd).close()
        self.assertIsNone(SocketLoans.open(lambda stream, lent: None, fd))


class LentWriteTest(unittest.TestCase):
    BODY = memoryview(b"x" * (8 * 1024 * 1024))

    def setUp(self) -> None:
        self.client, self.peer = socket.socketpair()
        self.client.setblocking(False)

    def tearDown(self) -> None:
        self.client.close()
        self.peer.close()

    def read_all(self) -> threading.Thread:
        def read() -> None:
            taken = 0
            while taken < len(self.BODY):
                taken += len(self.peer.recv(1 << 20))
        reader = threading.Thread(target=read)
        reader.start()
        return reader

    def test_writes_everything_to_a_client_that_keeps_up(self) -> None:
        reader = self.read_all()
        self.assertEqual(write_lent(self.client, self.BODY, lambda: False), len(self.BODY))
        reader.join(TIMEOUT)

    def test_gives_up_on_a_client_that_stops_reading(self) -> None:
        started = time.monotonic()
        written = write_lent(self.client, self.BODY, lambda: False)
        self.assertLess(written, len(self.BODY))
        self.assertGreaterEqual(time.monotonic() - started, STALL_S)

    def test_stops_once_the_stream_is_gone(self) -> None:
        self.assertEqual(write_lent(self.client, self.BODY, lambda: True), 0)

    def test_writes_from_the_loop_alike(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            self.assertLess(loop.run_until_complete(
                write_lent_on(loop, self.client, self.BODY, lambda: False)), len(self.BODY))
            reader = self.read_all()
            self.assertEqual(loop.run_until_complete(
                write_lent_on(loop, self.client, self.BODY, lambda: False)), len(self.BODY))
        finally:
            loop.close()
        reader.join(TIMEOUT)


class StreamLoanTest(unittest.TestCase):
    def setUp(self) -> None:
        self.stream = Stream(request(), 1024 * 1024, FakeConnection(), lambda s: None)
        self.lent, self.peer = socket.socketpair()

    def tearDown(self) -> None:
        self.lent.close()
        self.peer.close()

    def test_takes_a_socket_only_once_asked_for(self) -> None:
        self.assertFalse(self.stream.lend(self.lent))
        self.stream.ask_loan()
        self.assertFalse(self.stream.loan_answered)
        self.assertTrue(self.stream.lend(self.lent))
        self.assertTrue(self.stream.loan_answered)
        self.assertIs(self.stream.take_loan(), self.lent)
        self.assertFalse(self.stream.lend(self.lent))

    def test_a_refusal_answers_with_no_socket(self) -> None:
        self.stream.ask_loan()
        self.stream.not_lent()
        self.assertTrue(self.stream.loan_answered)
        self.assertIsNone(self.stream.take_loan())

    def test_a_socket_for_a_stream_gone_meanwhile_is_refused(self) -> None:
        self.stream.ask_loan()
        self.stream.disconnect()
        self.assertFalse(self.stream.lend(self.lent))
        self.assertIsNone(self.stream.take_loan())

    def test_the_dispatcher_closes_a_socket_no_stream_asked_for(self) -> None:
        dispatcher = Dispatcher(FakeConnection(), 1024 * 1024)
        dispatcher.on_loan(5, self.lent)
        self.assertEqual(self.lent.fileno(), -1)


async def _until(ready) -> None:
    for _ in range(int(TIMEOUT / 0.01)):
        if ready():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


if __name__ == "__main__":
    unittest.main()
