# `run.py --read-config LOCATION`: runs a gunicorn config file in the app's interpreter and prints
# its plain settings, the hooks it defines and what could not be used, as one JSON object on
# stdout. Runs in a helper process the CLI starts before anything else.
from __future__ import annotations

import os
import sys
from typing import List

from .gunicorn_config import ConfigFileError, as_json, load, sort_names

EXIT_OK = 0
EXIT_FAILED = 2


def read_config(argv: List[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: run.py --read-config FILE|python:MODULE\n")
        return EXIT_FAILED
    # What the file prints goes to stderr, so that stdout carries the JSON alone.
    sys.stdout.flush()
    out = os.dup(1)
    os.dup2(2, 1)
    try:
        config = sort_names(load(argv[0]))
    except ConfigFileError as error:
        sys.stderr.write(error.message.rstrip("\n") + "\n")
        return EXIT_FAILED
    finally:
        sys.stdout.flush()
    with os.fdopen(out, "w", encoding="utf-8") as stdout:
        stdout.write(as_json(config) + "\n")
    return EXIT_OK
