// The Python app process: spawns the runner with the frame socket on fd 3 (the log pipe on fd 4,
// stdout and stderr on their own pipes, all read into the log, and the socket pair that lends it
// client sockets on fd 5), waits for READY, then relays frames.
// Runs in the worker; the process lives and dies with it.
import { BicornError, ExitCode, FrameReader, PROTOCOL_VERSION, encodeFrameParts, type EncodableFrame, type Frame } from '@bicorn/protocol';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { HOOK_CONTEXT_VARIABLE, type HookContext } from './hook-context.js';
import type { Interpreter } from './interpreter.js';
import type { HostLog } from './log.js';
import { logFrames, logLines } from './output-log.js';
import { socketLender, type SocketLender } from './socket-lender.js';

export const RUNNER = fileURLToPath(new URL('../runner/run.py', import.meta.url));
/** How long after the process's exit its socket may stay open before its frames are taken as all read. */
const FRAMES_AFTER_EXIT_MS = 1_000;

export interface RunnerOptions {
  readonly interpreter: Interpreter;
  readonly app: string;
  readonly interface: 'auto' | 'wsgi' | 'asgi';
  readonly threads: number;
  /** Body bytes in flight per stream and direction (flow control). */
  readonly window: number;
  readonly multiprocess: boolean;
  /**
   * Frames leave in one write per turn of the event loop, rather than one per callback that
   * sends some: for a worker whose Python process must share a core with other processes (see
   * python-app.ts). Default false; a WSGI app's always do (see READY in #onBootFrame).
   */
  readonly writeOncePerTurn?: boolean;
  /** ASGI apps only: the event loop, and whether lifespan events are sent. */
  readonly loop: 'auto' | 'asyncio' | 'uvloop';
  /** ASGI apps only: the WebSocket settings, for a connection the runner runs on a lent socket. */
  readonly websocket?: { readonly maxSize: number; readonly pingIntervalS: number; readonly pingTimeoutS: number } | undefined;
  readonly lifespan: 'auto' | 'on' | 'off';
  /** The app names a factory to call without arguments (uvicorn's --factory); default false. */
  readonly factory?: boolean;
  /** A gunicorn config whose worker-side server hooks run in the Python process, and what they are told. */
  readonly hooks?: { readonly config: string; readonly context: HookContext } | undefined;
  /** gunicorn's -k gevent: a WSGI app on this many greenlets. */
  readonly gevent?: { readonly workerConnections: number } | undefined;
  /** A logging config file for the app's Python logging (--log-config). */
  readonly logConfig?: string | null;
  /** -n/--name: the process title becomes `bicorn: python [NAME]`. */
  readonly procName?: string | null;
  /** Told the Python process's pid as soon as it is spawned, before the app loads. */
  readonly onSpawn?: (pid: number) => void;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly log: HostLog;
}

/** Where frames for the runner go: the runner process, or a test's fake. */
export type FrameSink = Pick<RunnerProcess, 'send'>;

export interface RunnerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class RunnerProcess {
  /** Frames after READY go here; set by the host before any request. */
  onFrame: (frame: Frame) => void = () => undefined;
  /** PONG frames go here instead. */
  onPong: (seq: number) => void = () => undefined;
  /** Lends client sockets to the runner (HTTP_BORROW); undefined where descriptors cannot be sent. */
  lender: SocketLender | undefined;
  readonly exited: Promise<RunnerExit>;
  readonly #child: ChildProcess;
  readonly #socket: Socket;
  /** Set at READY, from writeOncePerTurn and the app's interface. */
  #oncePerTurn = false;
  #corked = false;
  #interface = '';

  private constructor(child: ChildProcess, socket: Socket, exited: Promise<RunnerExit>) {
    this.#child = child;
    this.#socket = socket;
    this.exited = exited;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The interface the runner found the app speaks ("wsgi" or "asgi"), from READY. */
  get interface(): string {
    return this.#interface;
  }

  /** Starts the runner and resolves once the app is loaded; throws the app's own failure. */
  static async start(options: RunnerOptions): Promise<RunnerProcess> {
    // fd 5 carries the client sockets the worker lends (socket-lender.ts).
    const args = [RUNNER, '--app', options.app, '--interface', options.interface, '--threads', String(options.threads), '--window', String(options.window), '--socket-loans'];
    if (options.multiprocess) args.push('--multiprocess');
    if (options.factory === true) args.push('--factory');
    // Defaults stay off the command line, which then reads as what was asked for.
    if (options.loop !== 'auto') args.push('--loop', options.loop);
    const ws = options.websocket;
    if (ws !== undefined) args.push('--ws-max-size', String(ws.maxSize), '--ws-ping-interval', String(ws.pingIntervalS), '--ws-ping-timeout', String(ws.pingTimeoutS));
    if (options.lifespan !== 'auto') args.push('--lifespan', options.lifespan);
    if (options.gevent !== undefined) args.push('--gevent', '--worker-connections', String(options.gevent.workerConnections));
    if (options.logConfig != null) args.push('--log-config', options.logConfig);
    if (options.procName != null) args.push('--proc-name', options.procName);
    let env = options.env;
    if (options.hooks !== undefined) {
      args.push('--config', options.hooks.config);
      env = { ...env, [HOOK_CONTEXT_VARIABLE]: JSON.stringify(options.hooks.context) };
    }
    const child = spawn(options.interpreter.path, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const exited = new Promise<RunnerExit>((resolve) => child.once('exit', (code, signal) => { resolve({ code, signal }); }));
    logLines(child.stdio[1], 'stdout', options.log);
    logLines(child.stdio[2], 'stderr', options.log);
    logFrames(child.stdio[4] as Readable, options.log);
    const runner = new RunnerProcess(child, child.stdio[3] as Socket, exited);
    const lendChannel = child.stdio.at(5) as Socket;
    // A process that dies with sockets lent and not yet taken resets the channel: its death is
    // the exit's to handle, as for the frame socket.
    lendChannel.on('error', () => undefined);
    void exited.then(() => lendChannel.destroy());
    await runner.#handshake(options);
    runner.lender = await socketLender(lendChannel);
    return runner;
  }

  /**
   * Whether frames leave once per turn of the event loop: as asked (at READY, then when the
   * worker count changes), and always for a WSGI app. Its process takes requests a chunk at a
   * time and runs their calls one after another, so frames written at once only cost both
   * processes more: at -w 1 on 2 cores, gathered, the same 31k hello requests/s for a worker at
   * 21.9 us a request instead of 24.4 and Python at 17.8 instead of 19.8 (with 4 threads, 22.2k
   * -> 23.6k requests/s).
   */
  writeOncePerTurn(oncePerTurn: boolean): void {
    this.#oncePerTurn = oncePerTurn || this.#interface === 'wsgi';
  }

  send(frame: EncodableFrame): void {
    if (this.#socket.destroyed) return;
    // Frames sent in one tick (a request head and its body, several credits) leave in one write,
    // or those of a whole turn of the event loop (every request and message its poll phase read).
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      if (this.#oncePerTurn) setImmediate(this.#uncork);
      else process.nextTick(this.#uncork);
    }
    for (const part of encodeFrameParts(frame)) this.#socket.write(part);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  /** Asks the runner to finish what is in flight and exit; kills it if it has not within `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<RunnerExit> {
    this.send({ type: 'shutdown', stream: 0 });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /**
   * Stops the runner now, letting a gunicorn config's hook run first: SIGQUIT for a fast stop
   * (worker_int), SIGABRT for an app given up as stuck (worker_abort), then worker_exit; killed
   * if it has not exited within `graceMs`.
   */
  async interrupt(signal: 'SIGQUIT' | 'SIGABRT', graceMs: number): Promise<RunnerExit> {
    this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }

  /**
   * Resolves once every frame the process wrote has been read (its end of the socket closed), or
   * at most FRAMES_AFTER_EXIT_MS after its exit, for a child the app forked that holds the socket.
   */
  async framesRead(): Promise<void> {
    await this.exited;
    if (this.#socket.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FRAMES_AFTER_EXIT_MS);
      this.#socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async #handshake(options: RunnerOptions): Promise<void> {
    const reader = new FrameReader();
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      this.#socket.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk, (frame) => {
            if (ready) {
              if (frame.type === 'pong') this.onPong(frame.seq);
              else this.onFrame(frame);
            }
            else if (this.#onBootFrame(frame, options, reject)) {
              ready = true;
              resolve();
            }
          });
        } catch (error) {
          options.log.error({ err: error }, 'invalid frame from the Python process; stopping it');
          this.kill();
        }
      });
      this.#socket.on('error', () => undefined);
      void this.exited.then(({ code, signal }) => {
        if (ready) return;
        const how = signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`;
        reject(new BicornError('PYTHON_APP_FAILED', { app: options.app, exitCode: ExitCode.WorkerBoot, message: `the Python process ${how} before the app was ready; see its output above` }));
      });
    });
  }

  /** Returns true on READY. */
  #onBootFrame(frame: Frame, options: RunnerOptions, reject: (error: Error) => void): boolean {
    switch (frame.type) {
      case 'hello':
        if (frame.version !== PROTOCOL_VERSION) options.log.warn({ version: frame.version }, 'the runner speaks another frame protocol version');
        options.log.debug({ python: frame.pythonVersion, pid: this.pid }, 'python process started');
        return false;
      case 'ready':
        this.#interface = frame.interface;
        this.writeOncePerTurn(options.writeOncePerTurn === true);
        return true;
      case 'fatal':
        reject(fatalError(frame.exitCode, frame.message, options.app));
        return false;
      default:
        options.log.error({ frame: frame.type }, 'unexpected frame from the Python process before it was ready');
        return false;
    }
  }
}

/** A boot hook that raised says so in its first words (frames/SPEC.md, FATAL). */
const HOOK_FAILURE = /^hook (\w+) in (.+) raised:\n/;

function fatalError(exitCode: number, message: string, app: string): BicornError {
  const hook = HOOK_FAILURE.exec(message);
  if (exitCode === ExitCode.WorkerBoot && hook !== null) {
    return new BicornError('HOOK_FAILED', { hook: hook[1] ?? '', file: hook[2] ?? '', traceback: message.slice(hook[0].length), exitCode: ExitCode.WorkerBoot });
  }
  if (exitCode === ExitCode.WorkerBoot) return new BicornError('LIFESPAN_FAILED', { app, reason: message });
  return new BicornError('PYTHON_APP_FAILED', { app, exitCode: exitCode === ExitCode.Usage ? ExitCode.Usage : ExitCode.AppLoad, message });
}
