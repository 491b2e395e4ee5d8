# gunicorn config files: runs one as gunicorn does (a file, `file:PATH` or `python:MODULE`) and
# sorts its names into plain settings, server hooks and the rest. Runs in every Python process
# that needs it: bicorn's reading of the settings, the master's hook process, each worker's runner.
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import math
import os
import sys
import types
from typing import Any, Callable, Dict, List, NamedTuple

from .app_traceback import format_app_exception

# Where each hook runs in bicorn: the worker's Python process, or the master's hook process.
WORKER_HOOKS = ("post_fork", "post_worker_init", "pre_request", "post_request", "worker_int",
                "worker_abort", "worker_exit")
MASTER_HOOKS = ("on_starting", "when_ready", "on_reload", "pre_fork", "child_exit",
                "nworkers_changed", "on_exit")
# gunicorn hooks bicorn never calls: said so once, by the CLI.
UNCALLED_HOOKS = ("pre_exec", "ssl_context", "on_dirty_starting", "dirty_post_fork",
                  "dirty_worker_init", "dirty_worker_exit")
HOOKS = WORKER_HOOKS + MASTER_HOOKS + UNCALLED_HOOKS


class ConfigFileError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GunicornConfig(NamedTuple):
    # Plain values (JSON's types: numbers, strings, booleans, None, lists, dicts), by name.
    settings: Dict[str, Any]
    hooks: Dict[str, Callable[..., Any]]
    # Names bound to something else that is not a module or a function (an object, a set, a
    # hook name bound to a non-callable), with what it is: the CLI warns about gunicorn's.
    unusable: Dict[str, str]


def load(location: str) -> Dict[str, Any]:
    """The names the file defines, as gunicorn reads them: `python:MODULE` is imported, anything
    else (after an optional `file:`) is run as Python whatever its extension. Raises
    ConfigFileError with the file's traceback when it cannot be run."""
    if location.startswith("python:"):
        module_name = location[len("python:"):]
        try:
            return vars(importlib.import_module(module_name))
        except Exception as error:
            raise ConfigFileError(format_app_exception(error)) from None
    path = location[len("file:"):] if location.startswith("file:") else location
    if not os.path.isfile(path):
        raise ConfigFileError(f"no such file: {os.path.abspath(path)}")
    # gunicorn's module name; a loader of its own for a file without the .py extension.
    loader = importlib.machinery.SourceFileLoader("__config__", path)
    spec = importlib.util.spec_from_file_location("__config__", path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["__config__"] = module
    try:
        loader.exec_module(module)
    except Exception as error:
        raise ConfigFileError(format_app_exception(error)) from None
    return vars(module)


def sort_names(namespace: Dict[str, Any]) -> GunicornConfig:
    """Modules, functions that are not hooks, and names starting with _ are left out, as the
    parts of a config file that only compute its values."""
    settings: Dict[str, Any] = {}
    hooks: Dict[str, Callable[..., Any]] = {}
    unusable: Dict[str, str] = {}
    for name, value in namespace.items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if name in HOOKS:
            if callable(value):
                hooks[name] = value
            elif value is not None:
                unusable[name] = f"{_describe(value)}, not a function"
        elif callable(value):
            continue
        elif _is_plain(value):
            settings[name] = _plain(value)
        else:
            unusable[name] = _describe(value)
    return GunicornConfig(settings, hooks, unusable)


def as_json(config: GunicornConfig) -> str:
    return json.dumps({"settings": config.settings, "hooks": sorted(config.hooks),
                       "unusable": config.unusable}, allow_nan=False)


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_plain(item) for key, item in value.items())
    return False


def _plain(value: Any) -> Any:
    """Tuples as lists, and subclasses (an IntEnum, a str subclass) as their base type."""
    if isinstance(value, bool) or value is None:
        return value
    for base in (int, float, str):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    items: List[Any] = [_plain(item) for item in value]
    return items


def _describe(value: Any) -> str:
    kind = type(value).__name__
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"
