"""The WSGI application and the threaded HTTP server around it.

`SandboxApp` answers Graph calls (with latency, faults, usage headers and the call log), the
OAuth dialog, the HTML pages and the control API. `SandboxServer` serves it with
`wsgiref.simple_server` and a thread per connection, in the foreground (the CLI) or in a
background thread (tests: `with SandboxServer(port=0) as sandbox: ... sandbox.base_url`).
"""

import email.parser
import email.policy
import fnmatch
import json
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import IO, Any, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from . import errors
from .context import CallContext, FilePart, Request, bearer_token
from .control import ControlError, handle_control
from .errors import (
    APP_LEVEL_RATE_CODES,
    RATE_LIMIT_MESSAGES,
    DropConnection,
    GraphError,
    new_fbtrace_id,
)
from .graph import INVALID_TOKEN, Graph
from .media import picture_png
from .networks import default_mounts
from .oauth import OAuth, split_scopes
from .pages import dialog_page, error_page, index_page, view_page
from .registry import Mount, Registry
from .state import (
    CONTAINER_FAULTS,
    DEMO_USER_ID,
    FAULT_KINDS,
    TIMEOUT_FAULTS,
    VERSION_PREFIX,
    Fault,
    SandboxConfig,
    SandboxState,
    strip_version,
)

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]
MAX_BODY_BYTES = 64 * 1024 * 1024
CALL_FAULTS = FAULT_KINDS - CONTAINER_FAULTS - {"upload_interrupted"}
PAGE_LEVEL_RATE_CODES = frozenset({32, 613, 80001, 80002})
MALFORMED_HTML = b"<html><body><h1>502 Bad Gateway</h1><p>The server returned an invalid or \
incomplete response.</p></body></html>"


class Response:
    def __init__(self, status: int, body: bytes, content_type: str, headers: Headers) -> None:
        self.status = status
        self.body = body
        self.headers = [("Content-Type", content_type), *headers]


def _json_bytes(body: Any, *, pretty: bool = False) -> bytes:
    if pretty:
        return json.dumps(body, indent=2).encode()
    # Meta escapes slashes in its JSON ("https:\/\/...").
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


def _html(status: int, text: str, headers: Headers | None = None) -> Response:
    return Response(status, text.encode(), "text/html; charset=utf-8", headers or [])


def _redirect(location: str) -> Response:
    return Response(302, b"", "text/html; charset=utf-8", [("Location", location)])


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, FilePart]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, FilePart] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, data, part.get_content_type())
        else:
            charset = part.get_content_charset() or "utf-8"
            fields[name] = data.decode(charset, "replace")
    return fields, files


def _json_params(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out = {}
    for key, value in data.items():
        if isinstance(value, str):
            out[str(key)] = value
        elif isinstance(value, bool):
            out[str(key)] = "true" if value else "false"
        else:
            out[str(key)] = json.dumps(value)
    return out


def mount_networks(mounts: Iterable[Mount]) -> tuple[Any, ...]:
    """Every network of the mounts, each once, in order (the state keeps one store each)."""
    seen: dict[str, Any] = {}
    for mount in mounts:
        for network in mount.networks:
            if seen.setdefault(network.name, network) is not network:
                raise ValueError(f"two networks are named {network.name!r}")
    return tuple(seen.values())


class SandboxApp:
    """The WSGI application: the control API, the OAuth dialog, the HTML pages, and the Graph
    calls of each mount (by path prefix here; mounts with a port of their own are served by
    `for_mount`)."""

    def __init__(self, state: SandboxState, mounts: Iterable[Mount] | None = None) -> None:
        self.state = state
        self.mounts = tuple(mounts) if mounts is not None else default_mounts()
        names = [m.name for m in self.mounts]
        if len(set(names)) != len(names):
            raise ValueError("mount names must differ")
        prefixes = [m.prefix for m in self.mounts if m.port is None]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("two mounts share a prefix")
        self.graphs = {m.name: Graph(state, Registry(m.networks)) for m in self.mounts}
        # Longest prefix first, so that "/threads" wins over the root mount.
        self._by_prefix = sorted(
            (m for m in self.mounts if m.port is None), key=lambda m: len(m.prefix), reverse=True
        )
        self.oauth = OAuth(state)

    @property
    def graph(self) -> Graph:
        """The Graph of the first mount (the Facebook Graph API by default)."""
        return self.graphs[self.mounts[0].name]

    def for_mount(self, name: str) -> "Callable[[dict[str, Any], StartResponse], Iterable[bytes]]":
        """The WSGI application of a mount served on its own port (at the root there)."""
        mount = next(m for m in self.mounts if m.name == name)

        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            return self._send(self.respond(environ, mount=mount), start_response)

        return app

    # --- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return self._send(self.respond(environ), start_response)

    def _send(self, response: "Response", start_response: StartResponse) -> Iterable[bytes]:
        status = f"{response.status} {HTTPStatus(response.status).phrase}"
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(status, headers)
        return [response.body]

    def _mount_of(self, raw_path: str) -> tuple[Mount | None, str]:
        """The mount whose prefix starts the path, and the path without it."""
        for mount in self._by_prefix:
            prefix = mount.prefix
            if not prefix:
                return mount, raw_path
            if raw_path == prefix or raw_path.startswith(prefix + "/"):
                return mount, raw_path[len(prefix) :] or "/"
        return None, raw_path

    def respond(self, environ: dict[str, Any], *, mount: Mount | None = None) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        raw_path = environ.get("PATH_INFO") or "/"
        query_string = environ.get("QUERY_STRING", "")
        query_pairs = urllib.parse.parse_qsl(query_string, keep_blank_values=True)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return Response(413, b'{"error":"body too large"}', "application/json", [])
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        base_url = f"http://{host}"
        content_type = str(environ.get("CONTENT_TYPE") or "")
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        control_path = strip_version(raw_path)
        if control_path.startswith("/_sandbox/") or control_path == "/_sandbox":
            return self._sandbox(method, control_path, body, dict(query_pairs), base_url)
        if control_path == "/favicon.ico":
            return Response(404, b"", "text/plain", [])
        # The main port's root mount also serves the dialog and the home page.
        at_root = mount is None
        prefix = ""
        if mount is None:
            mount, raw_path = self._mount_of(raw_path)
            if mount is None:
                return Response(404, b'{"error":"no such mount"}', "application/json", [])
            prefix = mount.prefix
            at_root = not prefix
        match = VERSION_PREFIX.match(raw_path)
        version = match.group(0).lstrip("/") if match else None
        path = strip_version(raw_path)

        form_pairs: list[tuple[str, str]] = []
        files: dict[str, FilePart] = {}
        params = dict(query_pairs)
        if method in ("POST", "PUT", "DELETE") and body:
            if content_type.startswith("multipart/form-data"):
                fields, files = _multipart(content_type, body)
                params.update(fields)
            elif content_type.startswith("application/json"):
                params.update(_json_params(body))
            elif content_type.startswith(("application/octet-stream", "video/")):
                pass  # bytes of a resumable upload (`Request.body`), no parameters
            else:
                form_pairs = urllib.parse.parse_qsl(
                    body.decode("utf-8", "replace"), keep_blank_values=True
                )
                params.update(form_pairs)
        if (at_root and path == "/dialog/oauth") or path in self.graphs[
            mount.name
        ].registry.dialog_paths:
            return self._dialog(method, prefix + raw_path, params, form_pairs)
        if at_root and path == "/" and method == "GET" and "ids" not in params:
            return _html(200, index_page(self.state, base_url))
        # Meta lets a GET stand for another method (`method=post`), as its JS SDK does.
        override = params.pop("method", "").upper()
        if method == "GET" and override in ("POST", "DELETE"):
            method = override
        request = Request(
            method=method,
            path=path,
            version=version,
            params=params,
            query=dict(query_pairs),
            files=files,
            headers=headers,
            base_url=base_url,
            prefix=prefix,
            body=body,
        )
        return self._graph_call(self.graphs[mount.name], request)

    # --- the OAuth dialog and the HTML pages ----------------------------------------------------

    def _dialog(
        self,
        method: str,
        raw_path: str,
        params: dict[str, str],
        form_pairs: list[tuple[str, str]],
    ) -> Response:
        problem = self.oauth.dialog_problem(params)
        if problem is not None:
            return _html(400, error_page("Sorry, something went wrong.", problem))
        requested = split_scopes(params.get("scope"))
        decision = params.get("decision") if method == "POST" else self.state.config.auto_consent
        if decision == "allow":
            if method == "POST" and "scopes_form" in params:
                granted = [v for k, v in form_pairs if k == "granted_scopes" and v in requested]
            else:
                granted = requested
            return _redirect(self.oauth.allow(params, granted, DEMO_USER_ID))
        if decision == "deny":
            return _redirect(self.oauth.deny(params))
        if method == "POST":
            return _html(400, error_page("Sorry, something went wrong.", "Choose Allow or Deny."))
        user = self.state.users[DEMO_USER_ID]
        with self.state.lock:
            text = dialog_page(self.state, raw_path, params, user, requested)
        return _html(200, text)

    def _sandbox(
        self, method: str, path: str, body: bytes, query: dict[str, str], base_url: str
    ) -> Response:
        parts = [p for p in path.split("/") if p]
        if method == "GET" and len(parts) == 3 and parts[1] == "pictures":
            png = picture_png(parts[2].removesuffix(".png"))
            return Response(200, png, "image/png", [("Cache-Control", "max-age=86400")])
        if method == "GET" and len(parts) == 3 and parts[1] == "view":
            text = view_page(self.state, parts[2])
            if text is None:
                return _html(404, error_page("Not found", f"Nothing was published as {parts[2]}."))
            return _html(200, text)
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return Response(
                400, _json_bytes({"error": "the body is not JSON"}), "application/json", []
            )
        try:
            status, answer = handle_control(self.state, method, path, data, query, base_url)
        except ControlError as exc:
            status, answer = exc.status, {"error": str(exc)}
        return Response(status, _json_bytes(answer, pretty=True), "application/json", [])

    # --- Graph calls ----------------------------------------------------------------------------

    def _latency(self, method: str, path: str) -> float:
        """Seconds to wait: the first matching per-path override ("/*/feed" or
        "POST /*/feed"), else the global latency."""
        config = self.state.config
        for key, ms in config.latency_paths.items():
            wanted, _, pattern = key.strip().rpartition(" ")
            if wanted and wanted.upper() not in ("*", method):
                continue
            if fnmatch.fnmatchcase(path, strip_version(pattern)):
                return ms / 1000.0
        return config.latency_ms / 1000.0

    def _hold(self, seconds: float) -> None:
        if seconds > 0:
            self.state.stop_event.wait(seconds)

    def _graph_call(self, graph: Graph, req: Request) -> Response:
        state = self.state
        state.enter()
        started = time.monotonic()
        ctx = CallContext()
        fault: Fault | None = None
        try:
            self._hold(self._latency(req.method, req.path))
            fault = state.take_fault(req.method, req.path, CALL_FAULTS)
            graph.peek(req, ctx)
            kind = fault.kind if fault is not None else None
            after = fault is not None and fault.effect == "after"
            if fault is not None and kind in TIMEOUT_FAULTS and not after:
                self._hold(float(fault.params.get("seconds", 0)))
                self._log(req, ctx, started, None, None, fault, dropped=True)
                raise DropConnection
            if fault is not None and kind == "revoke_token" and not after:
                self._revoke(ctx, fault)
            # An error, a throttle or a broken answer "before" the effect stands instead of the
            # call; "after" it, the call is done first and its answer replaced.
            instead = kind in ("error", "rate_limit", "malformed") and not after
            error: GraphError | None = None
            body: Any = None
            if not instead:
                error = self._throttle(ctx)
                if error is None:
                    try:
                        body = graph.handle(req, ctx)
                    except GraphError as exc:
                        error = exc
                    except DropConnection:
                        self._log(req, ctx, started, None, None, fault, dropped=True)
                        raise
                    except Exception:
                        self._report_bug(req)
                        error = errors.unknown_error()
            if fault is not None and kind in ("error", "rate_limit"):
                if error is not None and after:
                    ctx.notes["call_error"] = error.code
                error = self._fault_error(fault)
            if fault is not None and kind == "revoke_token" and after:
                self._revoke(ctx, fault)
            response = self._build(req, ctx, body, error, fault)
            self._log(req, ctx, started, response.status, error, fault)
            if fault is not None and kind in TIMEOUT_FAULTS:
                self._hold(float(fault.params.get("seconds", 0)))
                if not fault.params.get("respond", False):
                    raise DropConnection
            return response
        finally:
            state.leave()

    def _report_bug(self, req: Request) -> None:
        """A bug of the sandbox: its traceback on stderr, with the call's secrets blanked."""
        text = traceback.format_exc()
        for secret in (bearer_token(req)[0], req.param("appsecret_proof"), req.param("code")):
            if secret:
                text = text.replace(secret, "[redacted]")
        sys.stderr.write(f"sandbox: unexpected error in {req.method} {req.path}\n{text}")

    def _revoke(self, ctx: CallContext, fault: Fault) -> None:
        viewer = ctx.viewer
        if viewer is None or viewer.claims is None:
            return
        subcode = int(fault.params.get("subcode", 458))
        with self.state.lock:
            if fault.params.get("scope", "user") == "token":
                self.state.revoked_tokens[viewer.claims.nonce] = subcode
            else:
                self.state.revoked_users[viewer.claims.user_id] = {
                    "at": self.state.now(),
                    "subcode": subcode,
                }
            self.state.save()

    def _fault_error(self, fault: Fault) -> GraphError:
        spec = dict(fault.params)
        if fault.kind == "rate_limit":
            spec.setdefault("code", 4)
        return GraphError.from_spec(spec, app_id=self.state.config.app_id)

    def _throttle(self, ctx: CallContext) -> GraphError | None:
        """Meta's throttling once the rolling-window budget is used up."""
        config = self.state.config
        if not config.enforce_rate_limits or ctx.token_kind in (None, INVALID_TOKEN):
            return None
        app, per_object = self.state.usage(list(ctx.business_objects), count=False)
        if app >= 100:
            return errors.rate_limited(4)
        for object_id, percent in per_object.items():
            if percent >= 100:
                kind = ctx.business_objects[object_id]
                return errors.rate_limited(80002 if kind == "instagram" else 80001)
        return None

    def _usage_headers(
        self, req: Request, ctx: CallContext, error: GraphError | None, fault: Fault | None
    ) -> Headers:
        if ctx.token_kind in (None, INVALID_TOKEN):
            return []
        app, per_object = self.state.usage(list(ctx.business_objects), count=True)
        code = error.code if error is not None else None
        throttled = code in RATE_LIMIT_MESSAGES and (fault is not None or code in (4, 80001, 80002))
        regain = int(fault.params.get("minutes", 5)) if fault is not None else 5
        if throttled and code in APP_LEVEL_RATE_CODES:
            app = max(app, 100)
        headers: Headers = [
            (
                "X-App-Usage",
                json.dumps(
                    {"call_count": app, "total_cputime": app // 3, "total_time": app // 2},
                    separators=(",", ":"),
                ),
            )
        ]
        if throttled and code in PAGE_LEVEL_RATE_CODES and not per_object:
            first = req.path.strip("/").split("/")[0]
            if first.isdigit():
                per_object = {first: 100}
                ctx.touch(first, "pages")
        if per_object:
            business: dict[str, Any] = {}
            for object_id, percent in per_object.items():
                page_throttled = throttled and code in PAGE_LEVEL_RATE_CODES
                count = max(percent, 100) if page_throttled else percent
                business[object_id] = [
                    {
                        "type": ctx.business_objects.get(object_id, "pages"),
                        "call_count": count,
                        "total_cputime": count // 3,
                        "total_time": count // 2,
                        "estimated_time_to_regain_access": regain if page_throttled else 0,
                    }
                ]
            headers.append(
                ("X-Business-Use-Case-Usage", json.dumps(business, separators=(",", ":")))
            )
        return headers

    def _build(
        self,
        req: Request,
        ctx: CallContext,
        body: Any,
        error: GraphError | None,
        fault: Fault | None,
    ) -> Response:
        trace = new_fbtrace_id()
        headers: Headers = [
            ("facebook-api-version", req.version or self.state.config.default_version),
            ("x-fb-trace-id", trace),
            ("x-fb-request-id", new_fbtrace_id()),
            ("Cache-Control", "private, no-cache, no-store, must-revalidate"),
            ("Pragma", "no-cache"),
            ("Expires", "Sat, 01 Jan 2000 00:00:00 GMT"),
            *self._usage_headers(req, ctx, error, fault),
            *ctx.headers,
        ]
        if error is not None:
            headers.extend(error.headers())
            return Response(
                error.status,
                _json_bytes(error.body(trace)),
                "application/json; charset=UTF-8",
                headers,
            )
        if fault is not None and fault.kind == "malformed":
            status = int(fault.params.get("status", 200))
            variant = fault.params.get("variant", "html")
            if "body" in fault.params:
                raw = fault.params["body"]
                data = raw.encode() if isinstance(raw, str) else _json_bytes(raw)
                return Response(status, data, "application/json; charset=UTF-8", headers)
            if variant == "html":
                return Response(status, MALFORMED_HTML, "text/html; charset=utf-8", headers)
            if variant == "truncated":
                data = _json_bytes(body if body is not None else {"id": "0"})
                return Response(
                    status,
                    data[: max(len(data) // 2, 1)],
                    "application/json; charset=UTF-8",
                    headers,
                )
            if variant == "wrong_shape":
                return Response(status, b"[]", "application/json; charset=UTF-8", headers)
            return Response(status, b"", "application/json; charset=UTF-8", headers)
        return Response(200, _json_bytes(body), "application/json; charset=UTF-8", headers)

    def _log(
        self,
        req: Request,
        ctx: CallContext,
        started: float,
        status: int | None,
        error: GraphError | None,
        fault: Fault | None,
        *,
        dropped: bool = False,
    ) -> None:
        """One call-log entry: never a token, never the query string."""
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": req.method,
            "path": req.path,
            "template": ctx.template or req.path,
            "status": status,
            "code": error.code if error else None,
            "subcode": error.subcode if error else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "token": ctx.token_kind,
            "fault": fault.kind if fault else None,
            "effect": fault.effect if fault else None,
            "dropped": dropped
            or bool(
                fault
                and fault.kind in TIMEOUT_FAULTS
                and fault.effect == "after"
                and not fault.params.get("respond")
            ),
        }
        entry.update(ctx.notes)
        self.state.log_call(entry)


# --- the HTTP server ------------------------------------------------------------------------


class _ServerHandler(ServerHandler):
    request_handler: WSGIRequestHandler

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            return  # nothing written: the client sees the connection close unanswered
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    server: "_ThreadingWSGIServer"

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(
            self.rfile,
            cast(IO[bytes], self.wfile),
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self
        app = self.server.get_app()
        if app is not None:
            handler.run(app)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.verbose:
            return
        # Never the request line as sent: its query string may hold a token.
        path = self.path.split("?", 1)[0]
        status = args[1] if len(args) > 1 and format.startswith('"%s"') else "-"
        sys.stderr.write(f"sandbox {self.command} {path} {status}\n")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512
    verbose = False

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn), which can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class _ThreadingWSGIServer6(_ThreadingWSGIServer):
    address_family = socket.AF_INET6


class SandboxServer:
    """The sandbox Graph API on `host:port` (port 0: any free port; see `base_url`).

    `mounts` (default `networks.default_mounts()`) says which networks are served where; a
    mount with a `port` of its own gets a listener there (`mount_urls[name]`), port 0 meaning
    any free port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SandboxConfig | None = None,
        *,
        mounts: Iterable[Mount] | None = None,
        **options: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.config = replace(config or SandboxConfig(), **options)
        chosen = tuple(mounts) if mounts is not None else default_mounts()
        self.state = SandboxState(self.config, mount_networks(chosen))
        self.app = SandboxApp(self.state, chosen)
        self.base_url = ""
        # Base URL of each mount: the main URL plus its prefix, or its own port's URL.
        self.mount_urls: dict[str, str] = {}
        self._servers: list[_ThreadingWSGIServer] = []
        self._threads: list[threading.Thread] = []

    def _listen(self, port: int, app: Any) -> tuple[_ThreadingWSGIServer, str]:
        server_class = _ThreadingWSGIServer6 if ":" in self.host else _ThreadingWSGIServer
        server = server_class((self.host, port), _RequestHandler)
        server.set_app(app)
        server.verbose = self.config.verbose
        bound = int(server.server_address[1])
        shown = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104
        shown = f"[{shown}]" if ":" in shown else shown
        return server, f"http://{shown}:{bound}"

    def _bind(self) -> list[_ThreadingWSGIServer]:
        servers: list[_ThreadingWSGIServer] = []
        try:
            main, self.base_url = self._listen(self.port, self.app)
            servers.append(main)
            self.port = int(main.server_address[1])
            for mount in self.app.mounts:
                if mount.port is None:
                    self.mount_urls[mount.name] = self.base_url + mount.prefix
                    continue
                server, url = self._listen(mount.port, self.app.for_mount(mount.name))
                servers.append(server)
                self.mount_urls[mount.name] = url
        except BaseException:
            for server in servers:
                server.server_close()
            raise
        self.state.stop_event.clear()
        self._servers = servers
        return servers

    def _serve_in_threads(self, servers: list[_ThreadingWSGIServer]) -> None:
        for server in servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"sandbox-graph-{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def start(self) -> str:
        """Serve in background (daemon) threads; returns the base URL."""
        if self._threads:
            return self.base_url
        self._serve_in_threads(self._bind())
        return self.base_url

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C); mounts on ports of their own are
        served from background threads meanwhile."""
        main, *others = self._bind()
        self._serve_in_threads(others)
        try:
            main.serve_forever(poll_interval=0.2)
        finally:
            self.state.stop_event.set()
            main.server_close()
            self._servers = [s for s in self._servers if s is not main]
            self.stop()

    def stop(self) -> None:
        """Stop serving; requests held by latency or faults are released at once."""
        self.state.stop_event.set()
        servers, threads = self._servers, self._threads
        if threads:
            for server in servers:
                server.shutdown()
            for thread in threads:
                thread.join(timeout=5)
        for server in servers:
            server.server_close()
        self._servers = []
        self._threads = []

    def __enter__(self) -> "SandboxServer":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxServer({self.base_url or f'{self.host}:{self.port}'})"
