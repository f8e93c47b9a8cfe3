"""A loopback HTTP proxy in front of MiniStack that fails a seeded share of requests.

    with FaultProxy(ministack_url, rate=0.2, seed=1) as proxy:
        ... point AWS_ENDPOINT_URL (or Clients(endpoint_url=...)) at proxy.url ...

Each failed request gets one of: `503 SlowDown`, `500 InternalError` (in the service's own
error format), a connection reset before the request is forwarded, or a connection reset
after MiniStack has carried it out (the response is lost, so a retried create meets its own
first attempt). Whether a request fails is decided by a hash of (seed, the request, how many
times this same request was seen), so the choice does not depend on how threads interleave.

Bounded: no request fails more than `max_in_a_row` times running, at most `max_faults` faults
are injected in all, and the proxy shuts itself down after `lifetime` seconds.

`respond` gives canned answers (AWS errors MiniStack cannot produce, such as a bucket name
owned by another account); `lose` picks requests whose first response is lost after MiniStack
carried them out; `delay` holds every answer back after MiniStack acted (to stop a run
half-way, with requests in flight).

`down` is a stand-in for a Region outage: every request signed for one of those Regions (the
SigV4 credential scope, `Request.region`) is read and then held unanswered, its connection
open, until the proxy stops, as an unreachable Regional endpoint behaves to a client (the
connection succeeds, no answer comes: the client's read timeout ends it). `take_down` and
`bring_up` switch a Region during a test; `held` counts the requests each Region received
while down.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("503", "500", "reset", "lost")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
              "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def region(self) -> str:
        found = _CREDENTIAL_SCOPE.search(self.headers.get("authorization", ""))
        return found.group(1) if found else ""

    @property
    def service(self) -> str:
        found = _CREDENTIAL_SCOPE.search(self.headers.get("authorization", ""))
        return found.group(2) if found else ""

    @property
    def operation(self) -> str:
        """The API operation for JSON (X-Amz-Target) and query (Action=) protocols; for S3's
        REST protocol, METHOD plus the sub-resource, e.g. "PUT ?replication" or "PUT /"."""
        target = self.headers.get("x-amz-target")
        if target:
            return target.rsplit(".", 1)[-1]
        if self.service != "s3":
            form = urllib.parse.parse_qs(self.body.decode("utf-8", "replace"))
            return (form.get("Action") or self.query.get("Action") or [""])[0]
        sub = sorted(self.query)
        return f"{self.method} ?{sub[0]}" if sub else f"{self.method} /"

    @property
    def json_protocol(self) -> bool:
        return "json" in self.headers.get("content-type", "") or "x-amz-target" in self.headers


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    """An AWS error in the wire format of the request's service."""
    if request.json_protocol:
        body = json.dumps({"__type": code, "message": message}).encode()
        return Response(status, body, {"Content-Type": "application/x-amz-json-1.1",
                                       "x-amzn-ErrorType": code})
    if request.service == "s3":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
                f"<Message>{message}</Message><RequestId>FAULT</RequestId></Error>").encode()
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>FAULT</RequestId>"
                "</ErrorResponse>").encode()
    return Response(status, body, {"Content-Type": "application/xml"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # stdlib signature
        pass  # resets are on purpose; nothing to report


class FaultProxy:
    def __init__(self, upstream: str, *, rate: float = 0.0, seed: int = 0,
                 faults: tuple[str, ...] = FAULTS, delay: float = 0.0,
                 respond: Callable[[Request], Response | None] | None = None,
                 lose: Callable[[Request], bool] | None = None,
                 max_in_a_row: int = 3, max_faults: int = 500, lifetime: float = 300.0,
                 down: tuple[str, ...] = ()):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.rate, self.seed, self.faults, self.delay = rate, seed, faults, delay
        self.respond, self.lose = respond, lose
        self.max_in_a_row, self.max_faults, self.lifetime = max_in_a_row, max_faults, lifetime
        self.injected: Counter[str] = Counter()  # fault kind -> count
        self.requests = 0  # seen
        self.forwarded = 0  # carried out by MiniStack
        self.seen: list[Request] = []
        self.down: set[str] = set(down)  # Regions whose requests are held unanswered
        self.held: Counter[str] = Counter()  # Region -> requests held while it was down
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._occurrences: Counter[bytes] = Counter()
        self._in_a_row: Counter[bytes] = Counter()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True
        self._stopped = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._timer.start()
        return self

    def take_down(self, region: str) -> None:
        """From now on, hold every request signed for `region` unanswered."""
        with self._lock:
            self.down.add(region)

    def bring_up(self, region: str) -> None:
        """Answer `region`'s requests again (those already held stay unanswered)."""
        with self._lock:
            self.down.discard(region)

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stopping.set()  # held requests end, unanswered
        self._timer.cancel()
        if self._thread.is_alive():
            self._server.shutdown()  # waits for serve_forever, so only once it runs
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def fault_count(self) -> int:
        return sum(self.injected.values())

    # -- deciding ---------------------------------------------------------------------------

    def _decide(self, request: Request) -> str | None:
        """The fault for this request, or None to forward it untouched."""
        signature = b"\0".join([request.method.encode(), request.path.encode(),
                                urllib.parse.urlencode(request.query, doseq=True).encode(),
                                request.headers.get("x-amz-target", "").encode(), request.body])
        with self._lock:
            self._occurrences[signature] += 1
            nth = self._occurrences[signature]
            if self.lose is not None and nth == 1 and self.lose(request):
                self.injected["lost"] += 1
                return "lost"
            if (self.rate <= 0 or self._in_a_row[signature] >= self.max_in_a_row
                    or self.fault_count >= self.max_faults):
                self._in_a_row[signature] = 0
                return None
            digest = hashlib.sha256(b"%d\0%d\0" % (self.seed, nth) + signature).digest()
            draw = int.from_bytes(digest[:8], "big") / 2**64
            if draw >= self.rate:
                self._in_a_row[signature] = 0
                return None
            fault = self.faults[digest[8] % len(self.faults)]
            self._in_a_row[signature] += 1
            self.injected[fault] += 1
            return fault

    # -- serving ----------------------------------------------------------------------------

    def _forward(self, request: Request) -> Response:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            query = urllib.parse.urlencode(request.query, doseq=True)
            connection.putrequest(request.method, request.path + (f"?{query}" if query else ""),
                                  skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.items():
                if name not in HOP_BY_HOP and name != "content-length":
                    connection.putheader(name, value)
            if request.body or request.method in ("PUT", "POST"):
                connection.putheader("Content-Length", str(len(request.body)))
            connection.endheaders(request.body or None)
            answer = connection.getresponse()
            body = answer.read()
            headers = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP}
            return Response(answer.status, body, headers)
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline().strip():  # trailers
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _reset(self) -> None:
                """Drop the connection with a TCP reset, answering nothing."""
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                except OSError:
                    pass

            def _send(self, response: Response, head_only: bool) -> None:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    if name.lower() not in ("content-length", "date", "server"):
                        self.send_header(name, value)
                length = str(len(response.body))
                if head_only:  # a HEAD answer keeps the length of the body it does not send
                    length = {k.lower(): v for k, v in response.headers.items()}.get(
                        "content-length", length)
                self.send_header("Content-Length", length)
                self.end_headers()
                if not head_only:
                    self.wfile.write(response.body)

            def _handle(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                request = Request(self.command, split.path,
                                  urllib.parse.parse_qs(split.query, keep_blank_values=True),
                                  {k.lower(): v for k, v in self.headers.items()}, self._body())
                with proxy._lock:
                    proxy.requests += 1
                    proxy.seen.append(request)
                    outage = request.region in proxy.down
                    if outage:
                        proxy.held[request.region] += 1
                if outage:  # no answer until the proxy stops, as a Region that is down
                    proxy._stopping.wait()
                    self.close_connection = True
                    return
                head = self.command == "HEAD"
                canned = proxy.respond(request) if proxy.respond else None
                if canned is not None:
                    self._send(canned, head)
                    return
                fault = proxy._decide(request)
                if fault == "reset":
                    self._reset()
                    return
                if fault in ("503", "500"):
                    code, message = (("SlowDown", "Please reduce your request rate.")
                                     if fault == "503" else
                                     ("InternalError", "We encountered an internal error."))
                    self._send(error_response(request, int(fault), code, message), head)
                    return
                response = proxy._forward(request)
                with proxy._lock:
                    proxy.forwarded += 1
                if proxy.delay:
                    time.sleep(proxy.delay)
                if fault == "lost":
                    self._reset()
                    return
                self._send(response, head)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

        return Handler
