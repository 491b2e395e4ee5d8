# Finds the app that a gunicorn-style spec names, and which interface it speaks; runs in the runner.
from __future__ import annotations

import ast
import importlib
import inspect
import os
import platform
import sys
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

from .app_traceback import format_app_exception

EXIT_USAGE = 2
EXIT_APP_LOAD = 4

Call = Tuple[List[Any], Dict[str, Any]]


class AppLoadError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_APP_LOAD) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def load_app(spec: str, factory: bool = False,
             warn: Callable[[str], None] = lambda line: None) -> Any:
    """`factory`: the spec names a factory to call without arguments (uvicorn's --factory).
    Without it, a plain function that takes no arguments cannot be an app, so it is called as
    one too, and `warn` is told (uvicorn does the same)."""
    module_name, _, expression = spec.partition(":")
    if not module_name or not _is_dotted_name(module_name) or (":" in spec and not expression):
        raise AppLoadError(f"{spec!r} is not an app spec: expected MODULE, MODULE:NAME or "
                           f"MODULE:FACTORY(ARGS), such as mysite.wsgi:application",
                           EXIT_USAGE)
    module = _import(module_name)
    if not expression:
        target, where = _default_app(module, module_name)
        call: Optional[Call] = None
    else:
        path, call = _parse_expression(spec, expression)
        target = _resolve(module, module_name, path)
        where = f"{module_name}:{'.'.join(path)}"
    if call is not None and factory:
        raise AppLoadError(f"{spec!r} calls the factory already; drop --factory, or the call",
                           EXIT_USAGE)
    if call is None and not factory and _takes_no_arguments(target):
        warn(f"{where} takes no arguments, so it cannot be the app: bicorn calls it as an app "
             f"factory (as uvicorn does); pass --factory to say so")
        call = ([], {})
    elif call is None and factory:
        call = ([], {})
    if call is not None:
        args, kwargs = call
        if not callable(target):
            raise AppLoadError(f"{where} is {_describe(target)}, not a callable, so it cannot be "
                               f"called as a factory")
        try:
            target = target(*args, **kwargs)
        except Exception as error:
            raise AppLoadError(format_app_exception(error)) from None
        where = spec
    if not callable(target):
        raise AppLoadError(f"{where} is {_describe(target)}, not a callable")
    return target


def speaks_asgi(app: Any, requested: str) -> bool:
    """Whether to serve the app as ASGI: asked for (which serves any other callable as an ASGI 2
    double-callable, as uvicorn does), or detected."""
    return requested == "asgi" or (requested == "auto" and (is_asgi(app) or is_asgi2(app)))


def is_asgi(app: Any) -> bool:
    """An ASGI 3 app: a coroutine function, or an object whose __call__ is one. Calling a class
    makes an instance, so a class is one only if its instances can be awaited (as in uvicorn)."""
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(
        getattr(app, "__call__", None))


def is_asgi2(app: Any) -> bool:
    """An ASGI 2 double-callable that can be told without calling it: a class whose instances'
    __call__ is a coroutine function."""
    return inspect.isclass(app) and inspect.iscoroutinefunction(getattr(app, "__call__", None))


def _is_dotted_name(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def _import(module_name: str) -> types.ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and _is_prefix(error.name, module_name):
            raise AppLoadError(f"No module named {error.name!r}: bicorn looked in "
                               f"{_search_path()}; run it from the project's directory, or "
                               f"point --chdir or --pythonpath at it") from None
        raise AppLoadError(format_app_exception(error) + _interpreter_hint(error)) from None
    except BaseException as error:
        # Whatever the app's import raised, SystemExit included, is the app failing to load.
        raise AppLoadError(format_app_exception(error)) from None


def _interpreter_hint(error: ModuleNotFoundError) -> str:
    """A package the app imports is missing: most often the interpreter is not the project's."""
    return (f"{error.name!r} is not installed for {sys.executable} (Python "
            f"{platform.python_version()}), the interpreter that ran the app: if the project's "
            f"packages are in a virtualenv, activate it before starting bicorn, or name its "
            f"Python with --python /path/to/venv/bin/python\n")


def _takes_no_arguments(target: Any) -> bool:
    """A plain function whose parameters all have defaults: a factory, not a WSGI or ASGI app. A
    wrapper that takes *args or **kwargs (wsgiref.validate's, a decorator's) may be an app."""
    if not inspect.isfunction(target) or inspect.iscoroutinefunction(target):
        return False
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in parameters)


def _is_prefix(name: str, module_name: str) -> bool:
    return module_name == name or module_name.startswith(name + ".")


def _search_path() -> str:
    return ", ".join(os.path.abspath(entry or os.curdir) for entry in sys.path[:4]) + (
        ", …" if len(sys.path) > 4 else "")


def _default_app(module: types.ModuleType, module_name: str) -> Tuple[Any, str]:
    for name in ("application", "app"):
        if hasattr(module, name):
            target = getattr(module, name)
            if not callable(target):
                raise AppLoadError(f"{module_name}:{name} is {_describe(target)}, not a callable")
            return target, f"{module_name}:{name}"
    raise AppLoadError(f"{module_name} has neither 'application' nor 'app'; it has: "
                       f"{_names(module)}; name the app as {module_name}:NAME")


def _parse_expression(spec: str, expression: str) -> Tuple[List[str], Optional[Call]]:
    """("app.factory", "(1, debug=True)") style: the attribute path, and literal arguments when
    it is a call."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        node = None
    call = None
    if isinstance(node, ast.Call):
        try:
            args = [ast.literal_eval(arg) for arg in node.args]
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords
                      if kw.arg is not None}
        except (ValueError, TypeError, SyntaxError):
            raise AppLoadError(f"{spec!r}: factory arguments must be literals (strings, numbers, "
                               f"tuples, lists, dicts, booleans, None)", EXIT_USAGE) from None
        if len(kwargs) != len(node.keywords):
            raise AppLoadError(f"{spec!r}: **kwargs is not allowed in an app spec", EXIT_USAGE)
        call = (args, kwargs)
        node = node.func
    path = _attribute_path(node)
    if path is None:
        raise AppLoadError(f"{spec!r}: {expression!r} is neither a name such as application nor "
                           f"a call such as create_app()", EXIT_USAGE)
    return path, call


def _attribute_path(node: Any) -> Optional[List[str]]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _resolve(module: types.ModuleType, module_name: str, path: List[str]) -> Any:
    target: Any = module
    where, separator = module_name, ":"
    for name in path:
        if not hasattr(target, name):
            raise AppLoadError(f"{where} has no attribute {name!r}; it has: {_names(target)}")
        target = getattr(target, name)
        where, separator = f"{where}{separator}{name}", "."
    return target


def _names(target: Any) -> str:
    names = sorted(name for name in dir(target) if not name.startswith("_"))
    if not names:
        return "no public names"
    return ", ".join(names[:30]) + (f", and {len(names) - 30} more" if len(names) > 30 else "")


def _describe(value: Any) -> str:
    if isinstance(value, types.ModuleType):
        return "a module"
    if value is None:
        return "None"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name} ({value!r:.60})"
