// Checks a WebSocket upgrade request before the app sees it, so that an app's accept is never
// refused by the handshake afterwards (RFC 6455 4.2.1). Pure; runs in the worker.
import type { IncomingMessage } from 'node:http';

export interface UpgradeProblem {
  readonly status: number;
  readonly reason: string;
  /** Extra raw header lines for the answer. */
  readonly headers: string;
}

const KEY = /^[+/0-9A-Za-z]{22}==$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function checkUpgradeRequest(req: Pick<IncomingMessage, 'method' | 'headers'>): UpgradeProblem | undefined {
  if (req.method !== 'GET') return { status: 405, reason: 'a WebSocket handshake must be a GET', headers: 'allow: GET\r\n' };
  const { headers } = req;
  if (headers.upgrade?.toLowerCase() !== 'websocket') return { status: 400, reason: 'Upgrade is not websocket', headers: '' };
  const key = headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) return { status: 400, reason: 'missing or invalid Sec-WebSocket-Key', headers: '' };
  const version = headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return { status: 426, reason: 'unsupported Sec-WebSocket-Version', headers: 'sec-websocket-version: 13\r\n' };
  }
  const protocols = headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const offered = protocols.split(',').map((p) => p.trim());
    if (offered.some((p) => !TOKEN.test(p)) || new Set(offered).size !== offered.length) {
      return { status: 400, reason: 'invalid Sec-WebSocket-Protocol', headers: '' };
    }
  }
  return undefined;
}
