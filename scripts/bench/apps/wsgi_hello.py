"""The WSGI app of the benchmarks: hello world at /, a body counter at /upload, 10 MiB at /download."""

HELLO = b"Hello, world!"
CHUNK = 1024 * 1024
# Built once, so a download measures the server, not the app building 10 MiB per request.
DOWNLOAD = [b"x" * CHUNK for _ in range(10)]
DOWNLOAD_LENGTH = str(sum(len(chunk) for chunk in DOWNLOAD))


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/upload":
        stream = environ["wsgi.input"]
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
        received = 0
        while remaining > 0:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                break
            received += len(chunk)
            remaining -= len(chunk)
        body = str(received).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/download":
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", DOWNLOAD_LENGTH)])
        return DOWNLOAD
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
    return [HELLO]
