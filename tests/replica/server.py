"""GapReplica: a local HTTP server answering like Gap's listing API, product pages and image host.

Threaded (one thread per connection, HTTP/1.1 keep-alive) so that overlapping client requests really overlap, which
the request log records with monotonic and wall-clock start/end times. Faults are injected per URL pattern.
"""

from __future__ import annotations

import functools
import json
import re
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import listing, pages
from .catalog import LISTING_PATHS, Catalog
from .faults import Fault, FaultSet, akamai_access_denied, error_page
from .images import image_for_path

CONTROL_PREFIX = "/__replica__/"
PRODUCT_PATH = "/browse/product.do"
IMAGE_PREFIXES = ("/webcontent/", "/b/")  # /b/ is the path of the listing's content.gapinc.com absoluteUrl
JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html; charset=utf-8"
ENDPOINT_BY_PATH = {path: endpoint for endpoint, path in LISTING_PATHS.items()}


class _Response:
    """What a route answers, before faults change it."""

    __slots__ = ("status", "body", "content_type", "headers")

    def __init__(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
        self.status, self.body, self.content_type, self.headers = status, body, content_type, dict(headers or {})


def _json_response(status: int, value) -> _Response:
    return _Response(status, json.dumps(value, ensure_ascii=False).encode("utf-8"), JSON_TYPE)


def _html_response(status: int, text: str) -> _Response:
    return _Response(status, text.encode("utf-8"), HTML_TYPE)


class _Routes:
    """The replica's normal answers, cached because they are pure functions of the catalog and the URL."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.listing_body = functools.lru_cache(maxsize=512)(self._listing_body)
        self.product_body = functools.lru_cache(maxsize=2048)(self._product_body)
        self.image = functools.lru_cache(maxsize=4096)(image_for_path)

    def _listing_body(self, endpoint: str, cid: str, page_size: int, page_number: int, locale: str) -> bytes:
        body = listing.listing_response(self.catalog, endpoint, cid, page_size, page_number, locale)
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _product_body(self, cc_id: str) -> bytes | None:
        try:
            facts = pages.product_page_facts(self.catalog, cc_id)
        except (KeyError, ValueError):
            return None
        return pages.render_product_page(facts).encode("utf-8")

    def answer(self, path: str, query: str) -> _Response:
        endpoint = ENDPOINT_BY_PATH.get(path)
        if endpoint:
            try:
                params = listing.parse_listing_query(parse_qs(query, keep_blank_values=True))
            except listing.ListingError as error:
                return _json_response(400, listing.listing_error_body(str(error)))
            body = self.listing_body(endpoint, params["cid"], params["page_size"], params["page_number"],
                                     params["locale"])
            return _Response(200, body, JSON_TYPE)
        if path == PRODUCT_PATH:
            pid = (parse_qs(query).get("pid") or [""])[0].strip()
            body = self.product_body(pid) if pid else None
            if body is None:
                return _html_response(404, pages.render_not_found(pid))
            return _Response(200, body, HTML_TYPE)
        if path.startswith(IMAGE_PREFIXES):
            image = self.image(path)
            if image is None:
                return _html_response(404, error_page(404))
            return _Response(200, image[0], image[1], {"Cache-Control": "max-age=86400"})
        return _html_response(404, error_page(404))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gap-replica"
    sys_version = ""
    timeout = 60  # idle keep-alive connections end eventually

    # -- plumbing

    @property
    def replica(self) -> "GapReplica":
        return self.server.replica

    def setup(self):
        super().setup()
        # The last byte goes out in a write of its own (see _write_and_record); without TCP_NODELAY Nagle's
        # algorithm holds it until the client's delayed ACK, 40 ms per keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.replica._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.replica._track(self.connection, False)

    def log_message(self, format, *args):
        if self.replica.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self._handle(send_body=True)

    def do_HEAD(self):
        self._handle(send_body=False)

    def do_POST(self):
        self._handle(send_body=True)

    def do_DELETE(self):
        self._handle(send_body=True)

    # -- requests

    def _handle(self, send_body: bool):
        start, start_wall = time.monotonic(), time.time()
        parts = urlsplit(self.path)
        if parts.path.startswith(CONTROL_PREFIX):
            response = self._control(parts.path)
            self.wfile.write(self._head_bytes(response) + (response.body if send_body else b""))
            return
        fault = self.replica._faults.take(self.path)
        entry = {
            "method": self.command,
            "path": parts.path,
            "query": parts.query,
            "target": self.path,
            "host": self.headers.get("Host"),
            "user_agent": self.headers.get("User-Agent"),
            "headers": dict(self.headers.items()),
            "start": start,
            "start_wall": start_wall,
            "status": None,
            "fault": fault is not None,
            "bytes": 0,
            "error": None,
        }
        data, close = b"", self.command not in ("GET", "HEAD")  # an unread request body would poison keep-alive
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.drop:
            entry["error"], close = "dropped", True
        else:
            response = self._response(parts, fault)
            entry["status"] = response.status
            body = response.body if send_body else b""
            if fault and fault.truncate is not None and fault.truncate < len(body):
                body, close, entry["error"] = body[:fault.truncate], True, "truncated"
            data = self._head_bytes(response) + body
            entry["bytes"] = len(body)
        self._write_and_record(entry, data, close)

    def _response(self, parts, fault: Fault | None) -> _Response:
        if self.command not in ("GET", "HEAD"):
            response = _html_response(405, error_page(405))
        elif fault and (fault.body is not None or (fault.status is not None and fault.status >= 400)):
            response = self._fault_response(fault)
        else:
            try:
                response = self.replica._routes.answer(parts.path, parts.query)
            except Exception:  # a replica bug must show up as a 500 in the log, not as a hung client
                self.log_error("replica error on %s:\n%s", self.path, traceback.format_exc())
                response = _html_response(500, error_page(500))
            if fault and fault.status is not None:  # e.g. status=200 or 203 with the normal body
                response.status = fault.status
        if fault:
            if fault.content_type:
                response.content_type = fault.content_type
            response.headers.update(fault.headers or {})
        return response

    def _fault_response(self, fault: Fault) -> _Response:
        status = fault.status if fault.status is not None else 200
        if fault.body is not None:
            body = fault.body.encode("utf-8") if isinstance(fault.body, str) else bytes(fault.body)
            return _Response(status, body, fault.content_type or HTML_TYPE)
        if status == 403:
            return _html_response(403, akamai_access_denied(self.headers.get("Host", ""), self.path))
        return _html_response(status, error_page(status))

    def _head_bytes(self, response: _Response) -> bytes:
        """Status line and headers; Content-Length is always the full body's, also when the body gets truncated."""
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, str(value))
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        return head

    def _write_and_record(self, entry: dict, data: bytes, close: bool):
        """Send `data`, then log the request; optionally close the connection (drop, truncation).

        The last byte is written (and the connection closed) while holding the log lock, with the entry appended in
        the same critical section: a client that has seen the end of its response always finds it in the log, and
        `end` is still taken after the last byte went out.
        """
        replica = self.replica
        try:
            if len(data) > 1:
                self.wfile.write(data[:-1])
        except OSError as error:
            entry["error"], data, close = type(error).__name__, b"", True
        with replica._log_lock:
            try:
                if data:
                    self.wfile.write(data[-1:])
                if close:
                    self._close_now()
            except OSError as error:
                entry["error"], close = type(error).__name__, True
            finally:
                entry["end"], entry["end_wall"] = time.monotonic(), time.time()
                replica._log.append(entry)
        if close:
            self.close_connection = True

    def _close_now(self):
        """End the connection: nothing more is sent, the client sees it close."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- control API for a replica running in another process

    def _read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw.decode("utf-8")) if raw else None

    def _control(self, path: str) -> _Response:
        replica = self.replica
        try:
            if path == CONTROL_PREFIX + "faults":
                if self.command == "POST":
                    data = self._read_json()
                    faults = [data] if isinstance(data, dict) else list(data or [])
                    for item in faults:
                        replica._faults.add(Fault.from_dict(item))
                    return _json_response(200, {"added": len(faults)})
                if self.command == "DELETE":
                    replica.clear_faults()
                    return _json_response(200, {"cleared": True})
                if self.command == "GET":
                    return _json_response(200, replica._faults.snapshot())
            elif path == CONTROL_PREFIX + "log":
                if self.command == "GET":
                    return _json_response(200, replica.log)
                if self.command == "DELETE":
                    replica.clear_log()
                    return _json_response(200, {"cleared": True})
            elif path == CONTROL_PREFIX + "health":
                return _json_response(200, {"ok": True})
            else:
                return _json_response(404, {"error": f"unknown control path {path}"})
        except (ValueError, TypeError, re.error) as error:
            return _json_response(400, {"error": str(error)})
        return _json_response(405, {"error": f"{self.command} not allowed on {path}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


class GapReplica:
    """The offline Gap: start() serves on a (free) port in a background thread, stop() ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, catalog: Catalog | None = None,
                 verbose: bool = False, synthetic_colours: int = 0):
        """`synthetic_colours=N` also serves the synthetic category (catalog.SYNTHETIC_CID) of N colours."""
        self.host = host
        self.requested_port = port
        if catalog is not None and synthetic_colours:
            raise ValueError("give a catalog or synthetic_colours, not both")
        self.catalog = catalog or (Catalog(synthetic_colours=synthetic_colours) if synthetic_colours
                                   else Catalog.default())
        self.verbose = verbose
        self._routes = _Routes(self.catalog)
        self._faults = FaultSet()
        self._log: list[dict] = []
        self._log_lock = threading.Lock()
        self._connections: set = set()
        self._connections_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> "GapReplica":
        if self._server is not None:
            return self
        server = _Server((self.host, self.requested_port), _Handler)
        server.replica = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"gap-replica-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:  # end idle keep-alive connections instead of leaving threads behind
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "GapReplica":
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- addresses

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the replica is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    def url_for(self, hostname: str) -> str:
        """The replica under another host name on the same port (e.g. "localhost"), to test per-host behaviour."""
        return f"http://{hostname}:{self.port}"

    def listing_url(self, endpoint: str, cid, **params) -> str:
        query = {"cid": str(cid), "locale": "en_US", **params}
        return f"{self.base_url}{LISTING_PATHS[endpoint]}?{urlencode(query)}"

    def product_url(self, cc_id) -> str:
        return f"{self.base_url}{PRODUCT_PATH}?pid={cc_id}"

    # -- faults

    def add_fault(self, pattern: str, *, status: int | None = None, body: str | bytes | None = None,
                  content_type: str | None = None, headers: dict | None = None, delay: float = 0,
                  drop: bool = False, truncate: int | None = None, times: int | None = None) -> Fault:
        """Make requests whose path+query matches `pattern` (re.search) fail; returns the Fault (see its hits)."""
        return self._faults.add(Fault(pattern=pattern, status=status, body=body, content_type=content_type,
                                      headers=headers, delay=delay, drop=drop, truncate=truncate, times=times))

    def clear_faults(self):
        self._faults.clear()

    @property
    def faults(self) -> list[dict]:
        return self._faults.snapshot()

    # -- request log

    @property
    def log(self) -> list[dict]:
        """A copy of the request log (control requests excluded), in completion order."""
        with self._log_lock:
            return [dict(entry, headers=dict(entry["headers"])) for entry in self._log]

    def clear_log(self):
        with self._log_lock:
            self._log.clear()

    def _track(self, connection, add: bool):
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)
