// Whether the Python process reads its frames in time: a PING every 200 ms, answered with a
// PONG from where the runner reads frames (the event loop of an ASGI app, the reader thread
// of a WSGI app, which needs the GIL). One left unanswered for a second means the app cannot
// start a request now: its loop is blocked, or C code holds the GIL. Runs in the worker.
import type { HostLog } from './log.js';
import type { RunnerProcess } from './runner-process.js';

const PING_MS = 200;
const LATE_MS = 1_000;

export class AppPulse {
  readonly #runner: RunnerProcess;
  readonly #log: HostLog;
  readonly #onChange: (responsive: boolean) => void;
  readonly #timer: NodeJS.Timeout;
  #seq = 0;
  /** When the PING not yet answered was sent. */
  #pendingSince: number | undefined;
  #responsive = true;

  constructor(runner: RunnerProcess, log: HostLog, onChange: (responsive: boolean) => void) {
    this.#runner = runner;
    this.#log = log;
    this.#onChange = onChange;
    runner.onPong = (seq) => {
      this.#onPong(seq);
    };
    this.#timer = setInterval(() => {
      this.#beat();
    }, PING_MS);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    if (this.#pendingSince !== undefined) {
      const silentMs = Date.now() - this.#pendingSince;
      if (silentMs > LATE_MS && this.#responsive) {
        this.#set(false);
        // Logged once the master has been told (the load report leaves at the next turn): a
        // reader of the log then never sees a connection still going to this app.
        setImmediate(() => {
          this.#log.warn({ pythonPid: this.#runner.pid, silentMs }, 'the Python app does not read its frames (its event loop is blocked, or C code holds the GIL): no request starts there until it does');
        });
      }
      return;
    }
    this.#pendingSince = Date.now();
    this.#runner.send({ type: 'ping', stream: 0, seq: ++this.#seq });
  }

  #onPong(seq: number): void {
    if (seq !== this.#seq) return;
    if (!this.#responsive) this.#log.info({ pythonPid: this.#runner.pid, silentMs: Date.now() - (this.#pendingSince ?? 0) }, 'the Python app reads its frames again');
    this.#pendingSince = undefined;
    this.#set(true);
  }

  #set(responsive: boolean): void {
    if (responsive === this.#responsive) return;
    this.#responsive = responsive;
    this.#onChange(responsive);
  }
}
