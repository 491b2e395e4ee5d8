// A cookie-aware HTTP client for end-to-end tests of framework apps: it keeps the cookies a
// server sets and sends them back, as a browser does, and posts forms urlencoded or multipart.
// Each request is on a fresh connection, so stopping the server never waits on an idle one.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Answer } from './http.js';

export interface Body {
  readonly contentType: string;
  readonly bytes: Buffer;
}

export interface FilePart {
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

export function urlencoded(fields: Record<string, string>): Body {
  return { contentType: 'application/x-www-form-urlencoded', bytes: Buffer.from(new URLSearchParams(fields).toString()) };
}

export function multipart(fields: Record<string, string>, files: Record<string, FilePart>): Body {
  const boundary = `----bicorn-test-${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const [name, file] of Object.entries(files)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`));
    parts.push(file.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, bytes: Buffer.concat(parts) };
}

/** A value of a named `<input>` in an HTML page, such as a CSRF token's hidden field. */
export function inputValue(html: string, name: string): string {
  const input = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0];
  const value = input === undefined ? undefined : /value="([^"]*)"/.exec(input)?.[1];
  if (value === undefined) throw new Error(`no <input name="${name}"> with a value in:\n${html}`);
  return value;
}

export class Browser {
  /** Cookies by name; paths and domains are ignored, as every test app lives at one origin. */
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('GET', path, undefined, headers);
  }

  post(path: string, body: Body, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('POST', path, body, headers);
  }

  request(method: string, path: string, body: Body | undefined, headers: Record<string, string> = {}): Promise<Answer> {
    const sent: Record<string, string> = { ...headers };
    if (this.cookies.size > 0) sent.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (body !== undefined) {
      sent['content-type'] = body.contentType;
      sent['content-length'] = String(body.bytes.length);
    }
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.base), { method, agent: false, headers: sent }, (res) => {
        this.#remember(res.headers['set-cookie'] ?? []);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body?.bytes);
    });
  }

  #remember(setCookies: readonly string[]): void {
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const equals = pair.indexOf('=');
      if (equals <= 0) continue;
      const name = pair.slice(0, equals);
      const expired = attributes.some((a) => /^max-age=(0|-\d+)$/i.test(a));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(equals + 1));
    }
  }
}
