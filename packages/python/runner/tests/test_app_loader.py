# Tests of app loading from gunicorn-style specs, and of the messages when it fails.
from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
import textwrap
import unittest
from typing import List

from bicorn_runner.app_loader import AppLoadError, is_asgi, is_asgi2, load_app
from bicorn_runner.check import check_app

MODULES = {
    "ld_site/__init__.py": "",
    "ld_site/wsgi.py": """
        import os

        def application(environ, start_response):
            return []

        class Holder:
            class inner:
                @staticmethod
                def app(environ, start_response):
                    return []

        def create_app(name, debug=False):
            def app(environ, start_response):
                return []
            app.config = (name, debug)
            return app

        from ld_site import settings
        number = 42
    """,
    "ld_site/settings.py": "DEBUG = True\n",
    "ld_only_app.py": "def app(environ, start_response):\n    return []\n",
    "ld_nothing.py": "value = 1\n",
    "ld_broken.py": """
        import ld_helper

        application = None
    """,
    "ld_helper.py": """
        def explode():
            raise RuntimeError("the database is not configured")

        explode()
    """,
    "ld_missing_dep.py": "import ld_no_such_dependency\n",
    "ld_factory.py": """
        def create_app(config=None):
            def app(environ, start_response):
                return []
            app.config = config
            return app

        def create_asgi():
            async def app(scope, receive, send):
                pass
            return app

        def broken():
            raise RuntimeError("no settings")

        def application(environ, start_response):
            return []

        def wrapped(*args, **kwargs):
            return application(*args, **kwargs)
    """,
    "ld_async.py": """
        async def application(scope, receive, send):
            pass

        class Handler:
            async def __call__(self, scope, receive, send):
                pass

        handler = Handler()

        class Asgi2:
            def __init__(self, scope):
                pass

            async def __call__(self, receive, send):
                pass
    """,
}


class AppLoaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.root = tempfile.mkdtemp(prefix="bicorn-loader-")
        for name, source in MODULES.items():
            path = os.path.join(cls.root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as file:
                file.write(textwrap.dedent(source))
        sys.path.insert(0, cls.root)

    @classmethod
    def tearDownClass(cls) -> None:
        sys.path.remove(cls.root)
        for name in [m for m in sys.modules if m.startswith("ld_")]:
            del sys.modules[name]
        shutil.rmtree(cls.root)

    def failure(self, spec: str) -> AppLoadError:
        with self.assertRaises(AppLoadError) as caught:
            load_app(spec)
        return caught.exception

    def test_loads_module_colon_attribute(self) -> None:
        self.assertEqual(load_app("ld_site.wsgi:application").__name__, "application")

    def test_loads_a_dotted_attribute(self) -> None:
        self.assertEqual(load_app("ld_site.wsgi:Holder.inner.app").__name__, "app")

    def test_loads_a_module_alone_by_application_then_app(self) -> None:
        self.assertEqual(load_app("ld_site.wsgi").__name__, "application")
        self.assertEqual(load_app("ld_only_app").__name__, "app")

    def test_calls_a_factory_with_literal_arguments(self) -> None:
        app = load_app("ld_site.wsgi:create_app('demo', debug=True)")
        self.assertEqual(app.config, ("demo", True))

    def test_refuses_non_literal_factory_arguments(self) -> None:
        error = self.failure("ld_site.wsgi:create_app(os.environ)")
        self.assertIn("factory arguments must be literals", error.message)
        self.assertEqual(error.exit_code, 2)

    def test_refuses_a_malformed_spec_as_a_usage_error(self) -> None:
        for spec in ("", ":app", "ld_site.wsgi:", "ld site:app", "ld_site.wsgi:app[0]"):
            with self.subTest(spec=spec):
                self.assertEqual(self.failure(spec).exit_code, 2)

    def test_an_import_error_shows_the_apps_traceback_without_the_runners(self) -> None:
        error = self.failure("ld_broken:application")
        self.assertEqual(error.exit_code, 4)
        self.assertIn("RuntimeError: the database is not configured", error.message)
        self.assertIn("ld_broken.py", error.message)
        self.assertIn("ld_helper.py", error.message)
        self.assertNotIn("bicorn_runner", error.message)
        self.assertNotIn("importlib", error.message)

    def test_a_missing_dependency_of_the_app_shows_its_traceback(self) -> None:
        error = self.failure("ld_missing_dep")
        self.assertIn("ld_missing_dep.py", error.message)
        self.assertIn("No module named 'ld_no_such_dependency'", error.message)

    def test_a_missing_app_module_says_where_it_was_looked_for(self) -> None:
        error = self.failure("ld_nowhere.wsgi:application")
        self.assertEqual(error.exit_code, 4)
        self.assertIn("No module named 'ld_nowhere'", error.message)
        self.assertIn("--chdir", error.message)

    def test_a_missing_attribute_lists_what_is_there(self) -> None:
        error = self.failure("ld_site.wsgi:aplication")
        self.assertEqual(error.exit_code, 4)
        self.assertIn("ld_site.wsgi has no attribute 'aplication'; it has: Holder, application, "
                      "create_app, number, os, settings", error.message)
        error = self.failure("ld_site.wsgi:Holder.missing")
        self.assertIn("ld_site.wsgi:Holder has no attribute 'missing'; it has: inner",
                      error.message)

    def test_a_module_without_application_or_app_lists_what_is_there(self) -> None:
        error = self.failure("ld_nothing")
        self.assertIn("ld_nothing has neither 'application' nor 'app'; it has: value",
                      error.message)

    def test_a_non_callable_says_what_it_is(self) -> None:
        self.assertIn("ld_site.wsgi:settings is a module, not a callable",
                      self.failure("ld_site.wsgi:settings").message)
        self.assertIn("ld_site.wsgi:number is an int (42), not a callable",
                      self.failure("ld_site.wsgi:number").message)

    def test_calls_a_factory_without_arguments_with_factory(self) -> None:
        warnings: List[str] = []
        app = load_app("ld_factory:create_app", factory=True, warn=warnings.append)
        self.assertIsNone(app.config)
        self.assertEqual(warnings, [])

    def test_calls_a_function_that_takes_no_arguments_as_a_factory_and_says_so(self) -> None:
        warnings: List[str] = []
        app = load_app("ld_factory:create_app", warn=warnings.append)
        self.assertEqual(app.__name__, "app")
        self.assertEqual(len(warnings), 1)
        self.assertIn("ld_factory:create_app takes no arguments", warnings[0])
        self.assertIn("--factory", warnings[0])

    def test_leaves_an_app_that_takes_arguments_alone_without_factory(self) -> None:
        warnings: List[str] = []
        self.assertEqual(load_app("ld_site.wsgi:application", warn=warnings.append).__name__,
                         "application")
        # A wrapper that passes its arguments on (wsgiref.validate's, a decorator's) is an app.
        self.assertEqual(load_app("ld_factory:wrapped", warn=warnings.append).__name__, "wrapped")
        self.assertEqual(warnings, [])

    def test_a_failing_factory_shows_its_traceback(self) -> None:
        with self.assertRaises(AppLoadError) as caught:
            load_app("ld_factory:broken", factory=True)
        self.assertIn("RuntimeError: no settings", caught.exception.message)

    def test_refuses_factory_with_a_factory_call_as_a_usage_error(self) -> None:
        with self.assertRaises(AppLoadError) as caught:
            load_app("ld_factory:create_app()", factory=True)
        self.assertEqual(caught.exception.exit_code, 2)

    def test_a_missing_package_names_the_interpreter_and_how_to_choose_another(self) -> None:
        error = self.failure("ld_missing_dep")
        self.assertIn(f"'ld_no_such_dependency' is not installed for {sys.executable}",
                      error.message)
        self.assertIn("--python", error.message)
        self.assertIn("virtualenv", error.message)

    def check(self, *argv: str) -> "tuple[int, str, str]":
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = check_app(list(argv))
        return code, out.getvalue(), err.getvalue()

    def test_check_prints_the_interface_of_an_app_that_loads(self) -> None:
        self.assertEqual(self.check("--app", "ld_site.wsgi:application")[:2], (0, "wsgi\n"))
        self.assertEqual(self.check("--app", "ld_factory:create_asgi", "--factory")[:2],
                         (0, "asgi\n"))

    def test_check_exits_4_with_the_failure_when_the_app_does_not_load(self) -> None:
        code, out, err = self.check("--app", "ld_broken:application")
        self.assertEqual((code, out), (4, ""))
        self.assertIn("RuntimeError: the database is not configured", err)

    def test_detects_asgi_apps(self) -> None:
        self.assertTrue(is_asgi(load_app("ld_async:application")))
        self.assertTrue(is_asgi(load_app("ld_async:handler")))
        self.assertFalse(is_asgi(load_app("ld_site.wsgi:application")))

    def test_tells_an_asgi_2_class_from_an_asgi_3_app(self) -> None:
        self.assertFalse(is_asgi(load_app("ld_async:Asgi2")))
        self.assertTrue(is_asgi2(load_app("ld_async:Asgi2")))
        self.assertFalse(is_asgi2(load_app("ld_async:handler")))
        self.assertFalse(is_asgi2(load_app("ld_site.wsgi:application")))


if __name__ == "__main__":
    unittest.main()
