"""A small fault-injecting HTTP proxy for the end-to-end tests: it stands between the functions
and moto's server, forwards every request unchanged, and, while a fault rule matches, answers
instead with `503 Slow Down` (as S3 and SNS do when throttling) without forwarding, so the
request never reaches moto; and, for the requests a `chunked` matcher accepts, it forwards the
answer without its length (`Transfer-Encoding: chunked`), as a server that does not say how
much is coming. Rules are set by the tests while the proxy runs."""

import http.client
import http.server
import threading
from dataclasses import dataclass, field
from typing import Callable

# What a rule is asked about a request: (method, path, body).
Matcher = Callable[[str, str, bytes], bool]


@dataclass
class Rule:
    """Fail the requests `matches` accepts, after letting the first `after` of them through."""
    matches: Matcher
    after: int = 0
    seen: int = 0
    failed: int = 0


@dataclass
class Faults:
    rules: list[Rule] = field(default_factory=list)
    chunked: list[Matcher] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    forwarded: int = 0

    def decide(self, method: str, path: str, body: bytes) -> bool:
        """True when the request must fail."""
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path, body):
                    rule.seen += 1
                    if rule.seen > rule.after:
                        rule.failed += 1
                        return True
            self.forwarded += 1
            return False

    def unsized(self, method: str, path: str, body: bytes) -> bool:
        """True when the answer must be sent without its length."""
        with self.lock:
            return any(m(method, path, body) for m in self.chunked)


def s3(bucket: str, *methods: str) -> Matcher:
    """S3 requests with one of `methods` for an object of `bucket` (path-style)."""
    return lambda method, path, body: method in methods and path.lstrip("/").startswith(bucket + "/")


def s3_put(bucket: str) -> Matcher:
    return s3(bucket, "PUT")


def s3_get(bucket: str) -> Matcher:
    return s3(bucket, "GET", "HEAD")


def s3_head(bucket: str) -> Matcher:
    return s3(bucket, "HEAD")


def sns_publish() -> Matcher:
    return lambda method, path, body: method == "POST" and b"Action=Publish" in body


def start(upstream_port: int) -> tuple[http.server.ThreadingHTTPServer, Faults]:
    faults = Faults()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _handle(self):
            body = self._body()
            unsized = faults.unsized(self.command, self.path, body)
            if faults.decide(self.command, self.path, body):
                reply = b"<Error><Code>SlowDown</Code><Message>injected fault</Message></Error>"
                self.send_response(503, "Slow Down")
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
            headers["Content-Length"] = str(len(body))
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=120)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                self.send_response(response.status, response.reason)
                for k, v in response.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(k, v)
                if unsized and self.command != "HEAD" and response.status == 200:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for start in range(0, len(data), 1 << 20):
                            chunk = data[start:start + (1 << 20)]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True  # the reader stopped: nothing to finish
                    return
                # A HEAD answer keeps its Content-Length (the object's) and has no body.
                length = response.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
                self.send_header("Content-Length", length or "0")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                upstream.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, faults
