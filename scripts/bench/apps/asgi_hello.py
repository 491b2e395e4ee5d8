"""The ASGI app of the benchmarks: hello world at /, a body counter at /upload, 10 MiB at
/download, and a WebSocket echo at /ws. Handles lifespan so every server starts it the same way."""

HELLO = b"Hello, world!"
CHUNK = 1024 * 1024
DOWNLOAD = [b"x" * CHUNK for _ in range(10)]
DOWNLOAD_LENGTH = str(sum(len(chunk) for chunk in DOWNLOAD)).encode()


async def app(scope, receive, send):
    kind = scope["type"]
    if kind == "http":
        await http(scope, receive, send)
    elif kind == "websocket":
        await echo(receive, send)
    elif kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def http(scope, receive, send):
    path = scope["path"]
    if path == "/upload":
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            received += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = str(received).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    if path == "/download":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/octet-stream"), (b"content-length", DOWNLOAD_LENGTH)]})
        last = len(DOWNLOAD) - 1
        for index, chunk in enumerate(DOWNLOAD):
            await send({"type": "http.response.body", "body": chunk, "more_body": index < last})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")]})
    await send({"type": "http.response.body", "body": HELLO})


async def echo(receive, send):
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
