// The worker's ServerResponse (createServer's ServerResponse option): adds the server's default
// headers (Server, --header) to a response whose app did not set them, as its head is written,
// and drops Date with --no-date-header. Added there rather than with setHeader on every
// response, which would send every head down node's slower path (writeHead copies each header
// once any was set one by one). Runs in the worker, one per response.
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { HeaderField } from './request-rules.js';

type Headers = OutgoingHttpHeaders | OutgoingHttpHeader[];

export function frontResponseClass<Request extends IncomingMessage>(defaults: readonly HeaderField[], sendDate: boolean): typeof ServerResponse<Request> {
  return class FrontResponse extends ServerResponse<Request> {
    constructor(req: Request) {
      super(req);
      if (!sendDate) this.sendDate = false;
    }

    override writeHead(statusCode: number, reasonOrHeaders?: string | Headers, headers?: Headers): this {
      if (typeof reasonOrHeaders === 'string') return super.writeHead(statusCode, reasonOrHeaders, this.#withDefaults(headers));
      return super.writeHead(statusCode, this.#withDefaults(reasonOrHeaders));
    }

    #withDefaults(headers: Headers | undefined): Headers | undefined {
      if (Array.isArray(headers)) {
        let list: OutgoingHttpHeader[] | undefined;
        for (const [name, value] of defaults) if (this.#lacks(name, headers)) (list ??= headers.slice()).push(name, value);
        return list ?? headers;
      }
      if (headers !== undefined) return this.#objectWithDefaults(headers);
      // No headers given: the defaults join those set one by one, if any, else they are the head.
      const oneByOne = this.getHeaderNames().length > 0;
      const list: string[] = [];
      for (const [name, value] of defaults) {
        if (!this.#lacks(name, undefined)) continue;
        if (oneByOne) this.setHeader(name, value);
        else list.push(name, value);
      }
      return list.length === 0 ? undefined : list;
    }

    /**
     * An object's fields as a flat list, the missing defaults after them: node walks either form
     * alike, and adding a key to a copy of the app's object cost a slow store per response.
     */
    #objectWithDefaults(headers: OutgoingHttpHeaders): Headers {
      const list: OutgoingHttpHeader[] = [];
      for (const key in headers) {
        if (!Object.hasOwn(headers, key)) continue;
        const value = headers[key];
        // node refuses the head: the same error as ever, from the object itself.
        if (value === undefined) return headers;
        list.push(key, value);
      }
      let added = false;
      for (const [name, value] of defaults) {
        if (!this.#lacks(name, list)) continue;
        list.push(name, value);
        added = true;
      }
      return added ? list : headers;
    }

    #lacks(name: string, headers: readonly OutgoingHttpHeader[] | undefined): boolean {
      return !this.hasHeader(name) && !has(headers, name);
    }
  };
}

/** Whether a flat list of writeHead's headers names `name` (lower-case), in any case. */
function has(headers: readonly OutgoingHttpHeader[] | undefined, name: string): boolean {
  if (headers === undefined) return false;
  for (let i = 0; i < headers.length; i += 2) {
    const key = headers[i];
    if (typeof key === 'string' && key.length === name.length && key.toLowerCase() === name) return true;
  }
  return false;
}
