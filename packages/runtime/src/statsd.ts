// A StatsD client that speaks as gunicorn's (gunicorn/instrument/statsd.py), so that dashboards
// built on it keep working: the prefix with one trailing dot, `name:value|c|@1.0` counters, `|g`
// gauges, `|ms` timers, and dogstatsd tags appended as `|#tags`. The metrics of one event-loop
// turn leave in one datagram, one per line (as StatsD servers and the Datadog agent read them),
// up to a size no network fragments. UDP to `host:port` (resolved once, by connecting), or a unix
// datagram socket (unix-datagram.ts). Sending never throws and never blocks; the first failure is
// told once. Runs in the master and the workers.
import { parseStatsdAddress, type Config, type StatsdAddress } from '@bicorn/config';
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { LogLevel } from './logger.js';
import { openUnixDatagram } from './unix-datagram.js';

export interface StatsdOptions {
  readonly address: StatsdAddress;
  /** statsd_prefix: given one trailing dot, as gunicorn does. */
  readonly prefix: string | null;
  /** dogstatsd_tags: `tag1:value1,tag2:value2`. */
  readonly tags: string | null;
  /** Told once, when sending fails the first time (an unknown host, a missing socket). */
  readonly onError: (reason: string) => void;
}

/** Below the smallest Internet MTU's payload (1500 - IP and UDP headers), so nothing is split. */
const DATAGRAM_BYTES = 1_432;

type Send = (bytes: Buffer) => void;

/** gunicorn's `sub(r"^(.+[^.]+)\.*$", "\g<1>.", prefix)`: one trailing dot; nothing for none. */
export function statsdPrefix(prefix: string | null): string {
  return prefix === null || prefix === '' ? '' : `${prefix.replace(/\.+$/, '')}.`;
}

/** gunicorn's counter for each log line at these levels. */
const LOG_COUNTERS: Readonly<Partial<Record<LogLevel, string>>> = { warn: 'gunicorn.log.warning', error: 'gunicorn.log.error', fatal: 'gunicorn.log.critical' };

/** The client statsd_host asks for, or undefined without one. */
export function openStatsd(config: Pick<Config, 'statsd_host' | 'statsd_prefix' | 'dogstatsd_tags'>, onError: (reason: string) => void): StatsdClient | undefined {
  if (config.statsd_host === null) return undefined;
  const address = parseStatsdAddress(config.statsd_host.trim());
  // The setting's own check refused anything else.
  if (typeof address === 'string') throw new Error(`statsd_host: ${address}`);
  return new StatsdClient({ address, prefix: config.statsd_prefix, tags: config.dogstatsd_tags, onError });
}

export class StatsdClient {
  readonly #options: StatsdOptions;
  readonly #prefix: string;
  readonly #suffix: string;
  #pending: string[] = [];
  #pendingBytes = 0;
  #flushQueued = false;
  #transport: Promise<{ send: Send; close: () => void } | undefined> | undefined;
  #failed = false;
  #closed = false;

  constructor(options: StatsdOptions) {
    this.#options = options;
    this.#prefix = statsdPrefix(options.prefix);
    this.#suffix = options.tags === null || options.tags === '' ? '' : `|#${options.tags}`;
  }

  increment(name: string, value = 1): void {
    this.#add(`${name}:${String(value)}|c|@1.0`);
  }

  gauge(name: string, value: number): void {
    this.#add(`${name}:${String(value)}|g`);
  }

  /** A duration in milliseconds. */
  timing(name: string, ms: number): void {
    this.#add(`${name}:${String(ms)}|ms`);
  }

  /** Counts a log line as gunicorn counts its own (createLogger's onLine). */
  logLine(level: LogLevel): void {
    const counter = LOG_COUNTERS[level];
    if (counter !== undefined) this.increment(counter);
  }

  /** Sends what is pending, then closes the socket; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    (await this.#transport)?.close();
  }

  #add(metric: string): void {
    if (this.#closed) return;
    const line = `${this.#prefix}${metric}${this.#suffix}`;
    if (this.#pendingBytes + line.length + 1 > DATAGRAM_BYTES) this.#flush();
    this.#pending.push(line);
    this.#pendingBytes += line.length + 1;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => {
        this.#flush();
      });
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#pending.length === 0) return;
    const bytes = Buffer.from(this.#pending.join('\n'));
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#transport ??= this.#open();
    void this.#transport.then((transport) => transport?.send(bytes));
  }

  async #open(): Promise<{ send: Send; close: () => void } | undefined> {
    const { address } = this.#options;
    if (address.kind === 'unix') {
      try {
        const socket = await openUnixDatagram(address.path);
        return {
          send: (bytes) => {
            const sent = socket.send(bytes);
            if (!sent.ok) this.#fail(`cannot send to unix:${address.path} (errno ${String(sent.errno)})`);
          },
          close: () => {
            socket.close();
          },
        };
      } catch (error) {
        this.#fail(`cannot open a socket for unix:${address.path}: ${(error as Error).message}`);
        return undefined;
      }
    }
    const target = `${address.host}:${String(address.port)}`;
    const udp = createSocket(isIP(address.host) === 6 ? 'udp6' : 'udp4');
    udp.unref();
    // A refused port (ICMP) or a failed lookup comes back as an error: told once, never thrown.
    udp.on('error', (error) => {
      this.#fail(`cannot send to ${target}: ${error.message}`);
    });
    const connected = await new Promise<boolean>((resolve) => {
      udp.once('connect', () => {
        resolve(true);
      });
      udp.once('error', () => {
        resolve(false);
      });
      udp.connect(address.port, address.host);
    });
    if (!connected) {
      udp.close();
      return undefined;
    }
    return {
      send: (bytes) => {
        try {
          udp.send(bytes, (error) => {
            if (error !== null) this.#fail(`cannot send to ${target}: ${error.message}`);
          });
        } catch (error) {
          this.#fail(`cannot send to ${target}: ${(error as Error).message}`);
        }
      },
      close: () => {
        udp.close();
      },
    };
  }

  #fail(reason: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#options.onError(reason);
  }
}
