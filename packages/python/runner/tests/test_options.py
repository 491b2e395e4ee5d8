# Tests of the runner's command line and of the event loop that --loop chooses.
from __future__ import annotations

import asyncio
import sys
import types
import unittest
from unittest import mock

from bicorn_runner.asgi_server import LoopUnavailable, new_event_loop
from bicorn_runner.options import UsageError, parse_options


class OptionsTest(unittest.TestCase):
    def test_loop_and_lifespan_default_to_auto(self) -> None:
        options = parse_options(["--app", "m:app"])
        self.assertEqual((options.loop, options.lifespan), ("auto", "auto"))

    def test_takes_each_loop_and_lifespan_value(self) -> None:
        options = parse_options(["--app", "m:app", "--loop", "uvloop", "--lifespan", "off"])
        self.assertEqual((options.loop, options.lifespan), ("uvloop", "off"))

    def test_refuses_an_unknown_loop_naming_the_option(self) -> None:
        with self.assertRaisesRegex(UsageError, "--loop"):
            parse_options(["--app", "m:app", "--loop", "trio"])
        with self.assertRaisesRegex(UsageError, "--lifespan"):
            parse_options(["--app", "m:app", "--lifespan", "yes"])

    def test_takes_the_websocket_settings_the_worker_passes(self) -> None:
        options = parse_options(["--app", "m:app", "--ws-max-size", "0", "--ws-ping-interval",
                                 "2.5", "--ws-ping-timeout", "0"])
        self.assertEqual((options.ws_max_size, options.ws_ping_interval, options.ws_ping_timeout),
                         (0, 2.5, 0.0))
        for flag, value in (("--ws-max-size", "-1"), ("--ws-ping-interval", "nan"),
                            ("--ws-ping-timeout", "soon")):
            with self.assertRaisesRegex(UsageError, flag):
                parse_options(["--app", "m:app", flag, value])


class EventLoopTest(unittest.TestCase):
    def test_asyncio_never_tries_uvloop(self) -> None:
        fake = types.SimpleNamespace(new_event_loop=self.fail)
        with mock.patch.dict(sys.modules, {"uvloop": fake}):
            loop = new_event_loop("asyncio")
        self.addCleanup(loop.close)
        self.assertIsInstance(loop, asyncio.AbstractEventLoop)

    def test_auto_takes_uvloop_when_it_can_be_imported(self) -> None:
        sentinel = asyncio.new_event_loop()
        self.addCleanup(sentinel.close)
        fake = types.SimpleNamespace(new_event_loop=lambda: sentinel)
        with mock.patch.dict(sys.modules, {"uvloop": fake}):
            self.assertIs(new_event_loop("auto"), sentinel)
            self.assertIs(new_event_loop("uvloop"), sentinel)

    def test_auto_falls_back_to_asyncio_without_uvloop(self) -> None:
        with mock.patch.dict(sys.modules, {"uvloop": None}):
            loop = new_event_loop("auto")
        self.addCleanup(loop.close)
        self.assertIsInstance(loop, asyncio.AbstractEventLoop)

    def test_uvloop_without_uvloop_says_where_and_what_to_do(self) -> None:
        with mock.patch.dict(sys.modules, {"uvloop": None}):
            with self.assertRaises(LoopUnavailable) as raised:
                new_event_loop("uvloop")
        self.assertEqual(str(raised.exception),
                         f"uvloop is not installed in {sys.executable}; pip install uvloop or "
                         f"use --loop asyncio")


if __name__ == "__main__":
    unittest.main()
