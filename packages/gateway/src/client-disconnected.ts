// The error send() rejects with once the client has gone: the JavaScript counterpart of the
// OSError an ASGI server raises (spec 2.4). Thrown in the worker, into app code.

export class ClientDisconnected extends Error {
  override readonly name = 'ClientDisconnected';
  readonly code = 'ECONNRESET';

  constructor(message = 'the client disconnected before the response was complete') {
    super(message);
  }
}
