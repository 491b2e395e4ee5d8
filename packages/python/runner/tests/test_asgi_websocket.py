# Tests of an ASGI WebSocket connection in the runner: receive() and send() as WebSocket frames,
# credit both ways, the denial response, and what the worker is told on failure (the rules for
# each event and their order are pinned by protocol's send vectors: test_send_vectors.py).
from __future__ import annotations

import asyncio
import contextlib
import io
import queue
import threading
import unittest

from bicorn_runner.frames import (Credit, HttpError, HttpResponse, HttpResponseBody,
                                  ProtocolError, WsAccept, WsClose, WsMessage)
from bicorn_runner.streams import MAX_BODY_FRAME

from .fakes import TIMEOUT, WebSocketExchange, ws_connect

ACCEPT = {"type": "websocket.accept"}


def app_sending(*events):
    async def app(scope, receive, send):
        for event in events:
            await send(event)
    return app


def text(data):
    return {"type": "websocket.send", "text": data}


def message_frames(frames):
    return [f for f in frames if isinstance(f, WsMessage)]


class ConversationTest(unittest.TestCase):
    def test_echoes_text_and_bytes_and_closes_with_1000_when_the_app_returns(self) -> None:
        events = []

        async def app(scope, receive, send):
            events.append(await receive())
            await send(ACCEPT)
            for _ in range(2):
                event = await receive()
                events.append(event)
                if "text" in event:
                    await send(text("echo " + event["text"]))
                else:
                    await send({"type": "websocket.send", "bytes": event["bytes"][::-1]})

        exchange = WebSocketExchange(self, app)
        exchange.stream.feed("héllo".encode(), more=False, text=True)
        exchange.stream.feed(b"\x00\x01\x02", more=False, text=False)
        exchange.join()
        self.assertEqual(events, [
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": "héllo"},
            {"type": "websocket.receive", "bytes": b"\x00\x01\x02"},
        ])
        self.assertEqual([f for f in exchange.conn.frames if not isinstance(f, Credit)], [
            WsAccept(9, "", []),
            WsMessage(9, False, True, "echo héllo".encode()),
            WsMessage(9, False, False, b"\x02\x01\x00"),
            WsClose(9, 1000, ""),
        ])
        self.assertTrue(exchange.ended.is_set())

    def test_accepts_with_a_subprotocol_and_extra_headers(self) -> None:
        scopes = []

        async def app(scope, receive, send):
            scopes.append(scope)
            await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][1],
                        "headers": [(b"X-Room", b"1")]})
            await send({"type": "websocket.close"})

        exchange = WebSocketExchange(self, app, ws_connect(
            headers=[(b"sec-websocket-protocol", b"chat, superchat")])).join()
        self.assertEqual(scopes[0]["subprotocols"], ["chat", "superchat"])
        self.assertEqual(exchange.conn.frames, [WsAccept(9, "superchat", [(b"x-room", b"1")]),
                                                WsClose(9, 1000, "")])

    def test_reassembles_a_fragmented_message_and_credits_it_as_spec_md_says(self) -> None:
        received: "queue.Queue[dict]" = queue.Queue()
        go = threading.Event()

        async def app(scope, receive, send):
            await receive()
            await send(ACCEPT)
            await asyncio.get_running_loop().run_in_executor(None, go.wait)
            for _ in range(3):
                received.put(await receive())

        exchange = WebSocketExchange(self, app)
        exchange.conn.wait_for("the accept", lambda frames: WsAccept(9, "", []) in frames)
        exchange.stream.feed(b"ab", more=True, text=True)
        exchange.stream.feed(b"cd", more=True, text=True)
        exchange.stream.feed(b"ef", more=False, text=True)
        # The unfinished message's bytes are credited as they arrive, the last frame's once
        # the app has the message.
        self.assertEqual(exchange.conn.of_type(Credit), [Credit(9, 2), Credit(9, 2)])
        # Behind a message the app has not taken, the next one's pieces wait for it: what the
        # runner holds for a slow app stays within the window.
        exchange.stream.feed(b"gh", more=True, text=False)
        self.assertEqual(exchange.conn.of_type(Credit), [Credit(9, 2), Credit(9, 2)])
        go.set()
        self.assertEqual(received.get(timeout=TIMEOUT), {"type": "websocket.receive",
                                                         "text": "abcdef"})
        exchange.conn.wait_for("the credit for the message and the pieces after it",
                               lambda frames: Credit(9, 4) in frames)
        exchange.stream.feed(b"ij", more=False, text=False)
        self.assertEqual(received.get(timeout=TIMEOUT), {"type": "websocket.receive",
                                                         "bytes": b"ghij"})
        # A whole message's credit waits until a quarter of the window is owed.
        self.assertEqual(exchange.conn.of_type(Credit), [Credit(9, 2), Credit(9, 2), Credit(9, 4)])
        exchange.stream.close(1001, "going away")
        self.assertEqual(received.get(timeout=TIMEOUT),
                         {"type": "websocket.disconnect", "code": 1001, "reason": "going away"})
        exchange.join()
        # The worker closed first: the app's return sends nothing more.
        self.assertNotIn(WsClose(9, 1000, ""), exchange.conn.frames)

    def test_credits_whole_messages_once_a_quarter_of_the_window_is_owed(self) -> None:
        received: "queue.Queue[dict]" = queue.Queue()

        async def app(scope, receive, send):
            await receive()
            await send(ACCEPT)
            for _ in range(5):
                received.put(await receive())

        exchange = WebSocketExchange(self, app, window=100)
        for message in (b"a" * 10, b"b" * 10, b"c" * 5, b"d" * 20):
            exchange.stream.feed(message, more=False, text=False)
            received.get(timeout=TIMEOUT)
        # 10, then 20 owed (under 25): held back; 25: sent; then 20 held back again.
        self.assertEqual(exchange.conn.of_type(Credit), [Credit(9, 25)])
        # Held-back credit still counts against the window: 20 + 81 is beyond it.
        with self.assertRaisesRegex(ProtocolError, "101 WebSocket bytes sent and not credited"):
            exchange.stream.feed(b"e" * 81, more=False, text=False)
        # A piece goes with what was held back.
        exchange.stream.feed(b"e" * 30, more=True, text=False)
        self.assertEqual(exchange.conn.of_type(Credit), [Credit(9, 25), Credit(9, 50)])
        exchange.stream.close(1000, "")
        exchange.join()

    def test_delivers_messages_that_arrived_before_the_close_then_the_disconnect(self) -> None:
        events = []

        async def app(scope, receive, send):
            await receive()
            await send(ACCEPT)
            while True:
                event = await receive()
                events.append(event)
                if event["type"] == "websocket.disconnect":
                    break

        exchange = WebSocketExchange(self, app)
        exchange.conn.wait_for("the accept", lambda frames: bool(frames))
        exchange.stream.feed(b"one", more=False, text=False)
        exchange.stream.feed(b"unfinished", more=True, text=False)
        exchange.stream.close(1005, "")
        exchange.join()
        self.assertEqual(events, [{"type": "websocket.receive", "bytes": b"one"},
                                  {"type": "websocket.disconnect", "code": 1005, "reason": ""}])

    def test_closes_with_the_apps_code_and_then_reports_the_clients_answer(self) -> None:
        events = []

        async def app(scope, receive, send):
            await receive()
            await send(ACCEPT)
            await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
            events.append(await receive())

        exchange = WebSocketExchange(self, app)
        exchange.conn.wait_for("the close", lambda frames: WsClose(9, 4000, "bye") in frames)
        exchange.stream.close(4000, "bye")
        exchange.join()
        self.assertEqual(events, [{"type": "websocket.disconnect", "code": 4000,
                                   "reason": "bye"}])
        self.assertEqual(exchange.conn.frames, [WsAccept(9, "", []), WsClose(9, 4000, "bye")])


class FlowControlTest(unittest.TestCase):
    def test_splits_a_large_message_and_waits_for_credit(self) -> None:
        size = MAX_BODY_FRAME + 1000
        window = MAX_BODY_FRAME + 500

        async def app(scope, receive, send):
            await send(ACCEPT)
            await send(text("é" * (size // 2)))

        exchange = WebSocketExchange(self, app, window=window)
        conn = exchange.conn
        conn.wait_for("the first window", lambda frames: sum(
            len(f.body) for f in message_frames(frames)) == window)
        exchange.stream.credit(1000)
        exchange.join()
        frames = message_frames(conn.frames)
        self.assertEqual([(f.more, f.text, len(f.body)) for f in frames],
                         [(True, True, MAX_BODY_FRAME), (True, True, 500), (False, True, 500)])
        self.assertEqual(b"".join(f.body for f in frames).decode(), "é" * (size // 2))

    def test_messages_from_concurrent_tasks_do_not_interleave(self) -> None:
        async def app(scope, receive, send):
            await send(ACCEPT)
            await asyncio.gather(send({"type": "websocket.send", "bytes": b"a" * 300}),
                                 send({"type": "websocket.send", "bytes": b"b" * 300}))

        exchange = WebSocketExchange(self, app, window=100)
        # Each frame after the first goes out on the credit the one before it earned.
        for count in range(1, 7):
            exchange.conn.wait_for(f"frame {count}",
                                   lambda frames: len(message_frames(frames)) == count)
            exchange.stream.credit(100)
        exchange.join()
        bodies = [(f.more, f.body) for f in message_frames(exchange.conn.frames)]
        self.assertEqual(bodies, [(True, b"a" * 100), (True, b"a" * 100), (False, b"a" * 100),
                                  (True, b"b" * 100), (True, b"b" * 100), (False, b"b" * 100)])

    def test_a_message_sent_while_another_waits_for_credit_goes_after_it_even_with_room(
            self) -> None:
        sends = []
        done = []

        async def app(scope, receive, send):
            # Made on the loop: before 3.10 an Event takes the loop it is made on.
            done.append(asyncio.Event())
            sends.append(send)
            await send(ACCEPT)
            await send({"type": "websocket.send", "bytes": b"a" * 150})
            await done[0].wait()

        exchange = WebSocketExchange(self, app, window=100)
        exchange.conn.wait_for("the first window", lambda frames: len(message_frames(frames)) == 1)

        async def second() -> None:
            await sends[0]({"type": "websocket.send", "bytes": b"b" * 10})
            done[0].set()

        def credit_behind_a_new_send() -> None:
            # The second send's first step runs before the first one wakes to the credit: the
            # window has room then, but the first message is not over.
            exchange.server.loop.create_task(second())
            exchange.stream.credit(1000)
        exchange.server.loop.call_soon_threadsafe(credit_behind_a_new_send)
        exchange.join()
        self.assertEqual([(f.more, f.body) for f in message_frames(exchange.conn.frames)],
                         [(True, b"a" * 100), (False, b"a" * 50), (False, b"b" * 10)])

    def test_a_client_that_leaves_releases_a_send_waiting_for_credit(self) -> None:
        raised = []

        async def app(scope, receive, send):
            await send(ACCEPT)
            try:
                await send({"type": "websocket.send", "bytes": b"x" * 200})
            except OSError as error:
                raised.append(type(error).__name__)
                raise

        exchange = WebSocketExchange(self, app, window=100)
        exchange.conn.wait_for("the window", lambda frames: len(message_frames(frames)) == 1)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            exchange.stream.close(1006, "")
            exchange.join()
        self.assertEqual(raised, ["ClientDisconnected"])
        self.assertIsNone(exchange.error())
        self.assertEqual(stderr.getvalue(), "")
        self.assertTrue(exchange.ended.is_set())

    def test_send_after_the_client_left_raises_client_disconnected(self) -> None:
        outcome: "queue.Queue[str]" = queue.Queue()

        async def app(scope, receive, send):
            await send(ACCEPT)
            await receive()
            await receive()
            try:
                await send(text("late"))
            except OSError as error:
                outcome.put(type(error).__name__)

        exchange = WebSocketExchange(self, app)
        exchange.conn.wait_for("the accept", lambda frames: bool(frames))
        exchange.stream.close(1001, "")
        self.assertEqual(outcome.get(timeout=TIMEOUT), "ClientDisconnected")
        exchange.join()
        self.assertEqual(exchange.conn.frames, [WsAccept(9, "", [])])


class DenialTest(unittest.TestCase):
    def test_a_close_before_accept_is_ws_close_and_then_a_disconnect(self) -> None:
        events = []

        async def app(scope, receive, send):
            events.append(await receive())
            await send({"type": "websocket.close"})
            events.append(await receive())

        exchange = WebSocketExchange(self, app).join()
        self.assertEqual(exchange.conn.frames, [WsClose(9, 1000, "")])
        self.assertEqual(events, [{"type": "websocket.connect"},
                                  {"type": "websocket.disconnect", "code": 1006, "reason": ""}])

    def test_the_denial_response_goes_out_as_an_http_response(self) -> None:
        events = []

        async def app(scope, receive, send):
            self.assertIn("websocket.http.response", scope["extensions"])
            await receive()
            await send({"type": "websocket.http.response.start", "status": 401,
                        "headers": [(b"www-authenticate", b"Bearer")]})
            await send({"type": "websocket.http.response.body", "body": b"who ",
                        "more_body": True})
            await send({"type": "websocket.http.response.body", "body": b"are you?"})
            events.append(await receive())

        exchange = WebSocketExchange(self, app).join()
        self.assertEqual(exchange.conn.frames, [
            HttpResponse(9, 401, [(b"www-authenticate", b"Bearer")]),
            HttpResponseBody(9, True, b"who "),
            HttpResponseBody(9, False, b"are you?"),
        ])
        self.assertEqual(events, [{"type": "websocket.disconnect", "code": 1006, "reason": ""}])

    def test_a_failure_between_the_denial_start_and_its_body_sends_no_head(self) -> None:
        async def app(scope, receive, send):
            await send({"type": "websocket.http.response.start", "status": 404})
            raise LookupError("no such room")

        exchange = WebSocketExchange(self, app).join()
        self.assertEqual([type(f) for f in exchange.conn.frames], [HttpError])
        self.assertIn("LookupError: no such room", exchange.error())


class EventOrderTest(unittest.TestCase):
    def test_a_violation_the_app_swallows_still_fails_the_connection(self) -> None:
        async def app(scope, receive, send):
            await send(ACCEPT)
            with contextlib.suppress(RuntimeError):
                await send(ACCEPT)

        exchange = WebSocketExchange(self, app).join()
        self.assertIn("websocket.accept sent twice", exchange.error())
        self.assertNotIn(WsClose(9, 1000, ""), exchange.conn.frames)


class InvalidEventTest(unittest.TestCase):
    def test_text_a_lone_surrogate_makes_unencodable_is_refused(self) -> None:
        # A rule of Python's strings alone: a JavaScript string always encodes.
        exchange = WebSocketExchange(self, app_sending(
            ACCEPT, {"type": "websocket.send", "text": "\ud800"})).join()
        self.assertIn("websocket.send: text cannot be encoded as UTF-8", exchange.error())


class AppFailureTest(unittest.TestCase):
    def test_an_app_that_returns_without_accepting_fails(self) -> None:
        exchange = WebSocketExchange(self, app_sending()).join()
        self.assertEqual([type(f) for f in exchange.conn.frames], [HttpError])
        self.assertIn("returned without accepting, closing or denying", exchange.error())
        self.assertTrue(exchange.ended.is_set())

    def test_an_app_that_returns_mid_denial_fails(self) -> None:
        exchange = WebSocketExchange(self, app_sending(
            {"type": "websocket.http.response.start", "status": 403},
            {"type": "websocket.http.response.body", "body": b"x", "more_body": True})).join()
        self.assertIn("returned before the final websocket.http.response.body", exchange.error())

    def test_an_exception_after_accept_sends_the_apps_traceback(self) -> None:
        async def app(scope, receive, send):
            await send(ACCEPT)
            raise KeyError("room")

        exchange = WebSocketExchange(self, app).join()
        self.assertEqual(exchange.conn.frames[0], WsAccept(9, "", []))
        error = exchange.error()
        self.assertIn("KeyError: 'room'", error)
        self.assertIn("test_asgi_websocket.py", error)
        self.assertNotIn("bicorn_runner", error)

    def test_an_exception_after_the_close_still_reaches_the_worker(self) -> None:
        async def app(scope, receive, send):
            await send(ACCEPT)
            await send({"type": "websocket.close"})
            raise RuntimeError("cleanup failed")

        exchange = WebSocketExchange(self, app).join()
        # After the close frame, so the worker only logs it.
        self.assertIn(WsClose(9, 1000, ""), exchange.conn.frames)
        self.assertIn("RuntimeError: cleanup failed", exchange.error())


if __name__ == "__main__":
    unittest.main()
