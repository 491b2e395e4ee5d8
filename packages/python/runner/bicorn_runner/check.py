# `bicorn check --load-app` and `--check-config`: loads the app as a worker's runner would,
# prints the interface it speaks, and exits. Runs in a helper process the CLI starts.
from __future__ import annotations

import sys
from typing import List

from .app_loader import EXIT_USAGE, AppLoadError, load_app, speaks_asgi
from .options import UsageError, parse_options


def check_app(argv: List[str]) -> int:
    """Returns the exit code: 0 with "wsgi" or "asgi" on stdout, else the failure on stderr."""
    try:
        options = parse_options(argv)
    except UsageError as error:
        sys.stderr.write(f"bicorn runner: {error}\n")
        return EXIT_USAGE
    try:
        app = load_app(options.app, options.factory,
                       lambda line: sys.stderr.write(f"bicorn runner: {line}\n"))
    except AppLoadError as error:
        sys.stderr.write(error.message.rstrip("\n") + "\n")
        return error.exit_code
    sys.stdout.write("asgi\n" if speaks_asgi(app, options.interface) else "wsgi\n")
    return 0
