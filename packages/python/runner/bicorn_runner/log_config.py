# The app's Python logging, configured from --log-config (uvicorn's and gunicorn's forms: a
# dictConfig in JSON, or in YAML when PyYAML is installed, else a fileConfig INI) or from a
# gunicorn config's logconfig_dict, before the app is imported, so that its loggers are
# configured as they are created (runner process).
from __future__ import annotations

import json
import logging.config
import os
from typing import Any, Dict, Optional


class LogConfigError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def apply(path: Optional[str], from_file: Optional[Dict[str, Any]]) -> None:
    """--log-config wins over logconfig_dict, as a flag wins over the config file."""
    try:
        if path is not None:
            _apply_file(path)
        elif from_file:
            logging.config.dictConfig(from_file)
    except LogConfigError:
        raise
    except Exception as error:
        where = f"--log-config {path}" if path is not None else "logconfig_dict"
        raise LogConfigError(f"{where}: {type(error).__name__}: {error}") from None


def _apply_file(path: str) -> None:
    if not os.path.isfile(path):
        raise LogConfigError(f"--log-config {path}: no such file "
                             f"(it is relative to the working directory, chdir)")
    extension = os.path.splitext(path)[1].lower()
    if extension == ".json":
        with open(path, encoding="utf-8") as file:
            logging.config.dictConfig(json.load(file))
    elif extension in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise LogConfigError(f"--log-config {path}: a YAML logging config needs PyYAML in "
                                 f"the app's environment: pip install PyYAML, or write it as "
                                 f"JSON") from None
        with open(path, encoding="utf-8") as file:
            logging.config.dictConfig(yaml.safe_load(file))
    else:
        # gunicorn's and uvicorn's fileConfig: the loggers the app created before stay enabled.
        logging.config.fileConfig(path, defaults={"__file__": path, "here": os.path.dirname(path)},
                                  disable_existing_loggers=False)
