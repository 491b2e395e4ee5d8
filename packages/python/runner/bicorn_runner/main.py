# The runner's life: HELLO, load the app (and start its ASGI lifespan), READY or FATAL, serve until
# SHUTDOWN or the worker goes.
from __future__ import annotations

import functools
import logging
import os
import platform
import signal
import sys
import traceback
from typing import Any, Callable, Dict, List, Optional

from .app_loader import EXIT_USAGE, AppLoadError, is_asgi, load_app, speaks_asgi
from . import gevent_mode, log_config, proctitle
from .asgi_lifespan import EXIT_LIFESPAN, Lifespan, LifespanFailed
from .asgi_server import AsgiServer, LoopUnavailable, as_asgi3
from .connection import Connection, ConnectionLost
from .dispatch import Dispatcher
from . import stack_dump
from .frames import VERSION, Fatal, Hello, ProtocolError, Ready
from .gunicorn_config import ConfigFileError, load, sort_names
from .hook_objects import HookContext
from .lent_uploads import LentUploads
from .log_pipe import LOG_FD, LogPipe, install, runner_says
from .options import Options, UsageError, parse_options
from .lent_websocket import WebSocketSettings
from .socket_loans import LOAN_FD, SocketLoans
from .wsgi_environ import base_environ
from .wsgi_file_wrapper import FileWrapper
from .wsgi_handler import handle
from .worker_hooks import EXIT_BOOT, BootHookFailed, WorkerHooks
from .wsgi_on_reader import OnReader
from .wsgi_pool import ThreadPool

FRAME_FD = 3


def run(argv: List[str], exit_now: Callable[[int], None]) -> int:
    """Returns the exit code once the runner is done; exit_now(code) ends the process at once
    from any thread, for when the worker is gone and nothing is left to finish."""
    # The worker owns the runner's life (SHUTDOWN, or closing fd 3). A Ctrl-C in a terminal,
    # or the TERM systemd sends to the whole group, must not kill requests the worker drains;
    # nor may the master's other signals (HUP, TTIN, TTOU, USR1) sent to the whole group.
    for ignored in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU,
                    signal.SIGUSR1):
        signal.signal(ignored, signal.SIG_IGN)
    # A process the app forks must not hold the frame socket or the log pipe open.
    for fd in (FRAME_FD, LOG_FD):
        try:
            os.set_inheritable(fd, False)
        except OSError:
            pass
    # Before the app is imported, so that what it prints while loading is logged too.
    pipe = LogPipe.open(LOG_FD)
    errors = sys.stderr if pipe is None else install(pipe)
    # Taken before any of the app's code runs, so the app never sees it.
    hook_context = HookContext.take()
    try:
        connection = Connection.from_fd(FRAME_FD)
    except OSError as error:
        sys.stderr.write(f"bicorn runner: fd {FRAME_FD} is not a socket ({error}); the runner "
                         f"is started by a bicorn worker, not by hand\n")
        return EXIT_USAGE
    try:
        return _serve(connection, argv, errors, exit_now, hook_context)
    except ConnectionLost:
        # The worker went away while the runner wrote to it: there is no one left to answer.
        return 0


def _serve(connection: Connection, argv: List[str], errors: Any,
           exit_now: Callable[[int], None], hook_context: HookContext) -> int:
    connection.send(Hello(0, VERSION, platform.python_version()))
    try:
        options = parse_options(argv)
    except UsageError as error:
        return _fatal(connection, EXIT_USAGE, f"bicorn runner: {error}")
    if options.proc_name is not None:
        proctitle.set_title(f"bicorn: python [{options.proc_name}]")
    if options.socket_loans:
        # Nor the channel of lent sockets, before the app (which may fork as it loads) runs.
        os.set_inheritable(LOAN_FD, False)
    if options.gevent and not gevent_mode.active():
        return _fatal(connection, EXIT_USAGE, gevent_mode.MISSING)

    connection.fit_send_buffer(options.window)
    dispatcher = Dispatcher(connection, options.window)
    # Reading starts before the app loads, so that a worker gone meanwhile ends a slow import.
    connection.start_reader(dispatcher.on_frame, functools.partial(_on_lost, exit_now))
    try:
        hooks = _start_hooks(options, hook_context, exit_now)
    except (ConfigFileError, log_config.LogConfigError) as error:
        return _fatal(connection, EXIT_USAGE, error.message)
    except BootHookFailed as error:
        return _fatal(connection, EXIT_BOOT, error.message)
    try:
        app = load_app(options.app, options.factory, _warn)
    except AppLoadError as error:
        return _fatal(connection, error.exit_code, error.message)
    if hooks is not None:
        try:
            hooks.post_worker_init(app)
        except BootHookFailed as error:
            return _fatal(connection, EXIT_BOOT, error.message)
    if speaks_asgi(app, options.interface):
        if options.gevent:
            return _fatal(connection, EXIT_USAGE, gevent_mode.NOT_WSGI.format(app=options.app))
        asgi_app = app if is_asgi(app) else as_asgi3(app)
        code = _serve_asgi(connection, dispatcher, asgi_app if hooks is None
                           else hooks.wrap_asgi(asgi_app), options)
    else:
        _serve_wsgi(connection, dispatcher, app if hooks is None else hooks.wrap_wsgi(app),
                    options, errors)
        code = 0
    if hooks is not None:
        hooks.worker_exit()
    return code


def _start_hooks(options: Options, context: HookContext,
                 exit_now: Callable[[int], None]) -> Optional[WorkerHooks]:
    """Runs the gunicorn config file and post_fork; configures logging (--log-config, or the
    file's logconfig_dict) between the two, as gunicorn does."""
    if options.config is None:
        log_config.apply(options.log_config, None)
        return None
    try:
        config = sort_names(load(options.config))
    except ConfigFileError as error:
        raise ConfigFileError(f"the gunicorn config {options.config} failed to run:\n"
                              f"{error.message}") from None
    log_config.apply(options.log_config, config.settings.get("logconfig_dict"))
    hooks = WorkerHooks(config.hooks, context, config.settings)
    hooks.install_stop_signals(exit_now)
    hooks.post_fork()
    return hooks


def _serve_wsgi(connection: Connection, dispatcher: Dispatcher, app: Any, options: Options,
                errors: Any) -> None:
    # No loop takes over the frames: the reader thread reads them to the end.
    connection.keep_reading()
    # Under gevent the pool's threads are greenlets: --worker-connections requests at once.
    size = options.worker_connections if options.gevent else options.threads
    # One thread: the one that reads the frames, with no hand-off per request.
    pool = (OnReader(connection) if size == 1 and not options.gevent
            else ThreadPool(size, "bicorn-wsgi"))
    base = base_environ(errors, FileWrapper, multithread=size > 1,
                        multiprocess=options.multiprocess)
    # The app's thread writes to a lent socket (while its client keeps up); not a greenlet,
    # whose writes would wait on the hub.
    lends = options.socket_loans and not options.gevent
    loans = SocketLoans.open(dispatcher.on_loan) if lends else None
    if loans is not None:
        dispatcher.lends = True
        dispatcher.uploads = LentUploads(connection.send)
        loans.read_on_thread()
    dispatcher.serve(functools.partial(handle, app, base), pool.submit)
    stack_dump.install(gevent_mode.print_greenlets if options.gevent else None)
    connection.send(Ready(0, "wsgi"))
    dispatcher.wait_for_shutdown()
    pool.shutdown()


def _serve_asgi(connection: Connection, dispatcher: Dispatcher, app: Any,
                options: Options) -> int:
    state: Dict[str, Any] = {}
    try:
        server = AsgiServer(app, options.loop, state)
    except LoopUnavailable as error:
        return _fatal(connection, EXIT_USAGE, str(error))
    server.start()
    lifespan = Lifespan(app, state)
    if options.lifespan != "off":
        try:
            server.run(lifespan.startup(required=options.lifespan == "on"))
        except LifespanFailed as error:
            server.destroy()
            return _fatal(connection, EXIT_LIFESPAN, error.message)
    stack_dump.install(server.print_tasks)
    loans = SocketLoans.open(dispatcher.on_loan) if options.socket_loans else None
    if loans is not None:
        dispatcher.lends = True
        server.websocket_lending = WebSocketSettings(options.ws_max_size,
                                                     options.ws_ping_interval,
                                                     options.ws_ping_timeout, options.window)
        server.loop.call_soon_threadsafe(loans.read_on, server.loop)
    dispatcher.serve(server.handle, server.submit, server.handle_websocket)
    # The loop reads and writes the frames itself from here: no thread hand-off per request.
    connection.read_on_loop(server.loop, dispatcher.on_frame)
    connection.send(Ready(0, "asgi"))
    dispatcher.wait_for_shutdown()
    # Tasks that outlive their response (background tasks) finish before the app shuts down.
    server.run(server.drain())
    server.run(lifespan.shutdown())
    # The loop's transport may still hold frames the worker has not taken: they go out before
    # the loop stops and the process exits.
    server.run(connection.close_on_loop())
    server.close()
    return 0


def _warn(line: str) -> None:
    # stderr reaches the worker's log, one entry per line.
    sys.stderr.write(f"bicorn runner: {line}\n")


def _fatal(connection: Connection, exit_code: int, message: str) -> int:
    connection.send(Fatal(0, exit_code, message))
    return exit_code


def _on_lost(exit_now: Callable[[int], None], error: Optional[BaseException]) -> None:
    if error is None or isinstance(error, (OSError, ConnectionLost)):
        exit_now(0)
    elif isinstance(error, ProtocolError):
        runner_says(logging.ERROR, f"protocol error, closing: {error}")
        exit_now(1)
    else:
        runner_says(logging.ERROR, "internal error, closing:\n"
                    + "".join(traceback.format_exception(type(error), error,
                                                         error.__traceback__)))
        exit_now(1)

