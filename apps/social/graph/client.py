"""The transport: one pooled httpx client per process that speaks Graph API.

Every call gets a timeout, the token in the `Authorization: OAuth` header (never in the URL), an
`appsecret_proof`, retries with full-jitter exponential backoff when that is safe, one structured
`graph_call` log line and one metrics record per HTTP attempt, and Meta's usage headers parsed.
Failures become the classes of `errors.py`. The typed functions of this package sit on top.
"""

import hashlib
import hmac
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from apps.core.logging import REDACTED, SECRET_KEYS, redact_text

from .config import GraphConfig
from .errors import (
    IG_MEDIA_NOT_READY,
    IG_PUBLISHING_LIMIT_SUBCODE,
    GraphError,
    GraphMalformedResponseError,
    GraphRateLimitError,
    GraphTimeoutError,
    GraphTransientError,
    classify_graph_error,
    user_message_for,
)
from .metrics import GraphCallRecord, record_graph_call
from .usage import GraphUsage, parse_usage_headers

logger = structlog.get_logger(__name__)

Sleep = Callable[[float], None]
FileField = tuple[str, bytes, str]  # (filename, content, content type)

USER_AGENT = "social-automation-graph/1"
# Methods whose repetition changes nothing; POST is retried only when the caller says so.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE"})
# Parameters whose values are secrets: never forwarded from a `paging.next` URL, always scrubbed.
_SECRET_PARAMS = frozenset({*SECRET_KEYS, "code", "client_secret"})
# Transport failures after which the request certainly did not reach Meta.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Meta's `appsecret_proof`: hex HMAC-SHA256 of the access token keyed by the app secret."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class GraphResponse:
    """A successful Graph answer: the decoded JSON body and what the usage headers said."""

    status_code: int
    body: Any
    usage: GraphUsage
    method: str
    endpoint: str


class _Scrubber:
    """Removes the secrets of one call (token, proof, app secret, codes) from any text."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return redact_text(text)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _as_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class GraphClient:
    """A Graph API client bound to one configuration; safe to share between threads."""

    def __init__(
        self,
        config: GraphConfig,
        *,
        sleep: Sleep = time.sleep,
        jitter: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._jitter = jitter
        self._local = threading.local()
        self._http = httpx.Client(
            timeout=httpx.Timeout(
                config.timeout_seconds,
                connect=config.connect_timeout_seconds,
                pool=config.connect_timeout_seconds,
            ),
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=config.max_keepalive_connections,
            ),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"GraphClient(graph_url={self.config.graph_url!r}, version={self.config.version!r})"

    def __enter__(self) -> "GraphClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def last_usage(self) -> GraphUsage | None:
        """The usage headers of this thread's latest response (to slow down before a limit)."""
        usage: GraphUsage | None = getattr(self._local, "usage", None)
        return usage

    # --- the one entry point ---------------------------------------------------------------

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        ids: Iterable[str] = (),
        token: str | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, FileField] | None = None,
        idempotent: bool | None = None,
        next_url: str | None = None,
        versioned: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> GraphResponse:
        """Call `endpoint` (a template such as "/{id}/feed", filled from `ids`) and decode it.

        `token` is sent in the Authorization header with its appsecret_proof. Transient failures
        are retried when the call is idempotent (GET/DELETE, or `idempotent=True`); a POST is
        never retried unless marked so. `next_url` follows a `paging.next` link of an earlier
        answer (re-targeted at the configured host, its embedded secrets dropped).
        `versioned=False` calls the path without the version prefix (Threads' token endpoints,
        `graph.threads.net/access_token`, live there). `headers` are sent as well (the upload
        host's `file_url`); they are never logged, and their values are scrubbed from any text.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        if token is not None and not token:
            raise ValueError("An empty access token was passed to the Graph client.")
        query = dict(params or {})
        if next_url is None:
            url = self._url(endpoint, tuple(ids), versioned=versioned)
        else:
            url = self._next(next_url, query, method=method, endpoint=endpoint)
        body = dict(data or {}) if (data or files or method == "POST") else None
        extra_headers = dict(headers or {})
        if any(name.lower() == "authorization" for name in extra_headers):
            raise ValueError("The token goes in token=, never in headers=.")
        sent_headers = dict(extra_headers)
        proof: str | None = None
        if token is not None:
            sent_headers["Authorization"] = f"OAuth {token}"
            proof = appsecret_proof(token, self.config.app_secret)
            # In the form body of a POST, in the query otherwise: Meta reads it from both.
            (body if body is not None else query)["appsecret_proof"] = proof
        scrub = _Scrubber(
            [
                token,
                proof,
                self.config.app_secret,
                *(v for k, v in {**query, **(body or {})}.items() if k.lower() in _SECRET_PARAMS),
                *extra_headers.values(),
            ]
        )

        max_attempts = 1 + self.config.max_retries
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            outcome = self._attempt(method, url, query, body, files, sent_headers)
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            if isinstance(outcome, httpx.Response):
                result = self._interpret(outcome, method, endpoint, idempotent, scrub)
                status: int | None = outcome.status_code
            else:
                result = self._transport_error(outcome, method, endpoint, idempotent, scrub)
                status = None
            will_retry = (
                isinstance(result, GraphTransientError) and idempotent and attempt < max_attempts
            )
            delay = self._backoff(attempt) if will_retry else None
            self._observe(method, endpoint, status, result, duration_ms, attempt, delay)
            if isinstance(result, GraphResponse):
                return result
            if delay is None:
                raise result
            self._sleep(delay)

    # --- internals ---------------------------------------------------------------------------

    def _url(self, endpoint: str, ids: tuple[str, ...], *, versioned: bool = True) -> str:
        if not endpoint.startswith("/"):
            raise ValueError(f"Graph endpoint templates start with '/': {endpoint!r}")
        segments = endpoint.split("/")
        slots = [i for i, segment in enumerate(segments) if segment == "{id}"]
        if len(slots) != len(ids):
            raise ValueError(f"{endpoint!r} needs {len(slots)} id(s), got {len(ids)}.")
        for slot, object_id in zip(slots, ids, strict=True):
            if not isinstance(object_id, str) or not object_id:
                raise ValueError(f"Graph object ids are non-empty strings, got {object_id!r}.")
            segments[slot] = quote(object_id, safe="")
        version = f"/{self.config.version}" if versioned else ""
        return f"{self.config.graph_url}{version}{'/'.join(segments)}"

    def _next(self, next_url: str, query: dict[str, str], *, method: str, endpoint: str) -> str:
        # Meta's `next` links embed the access token; we send ours in the header instead, and
        # only ever to the configured host, whatever host the link names.
        try:
            parsed = httpx.URL(next_url)
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or not parsed.path.startswith("/"):
            raise GraphMalformedResponseError(
                "'paging.next' is not a URL", method=method, endpoint=endpoint
            )
        base = httpx.URL(self.config.graph_url)
        if parsed.host and parsed.host != base.host:
            # Only ever the configured host gets our token; the link's path and cursors are
            # followed there (an emulator behind another name, or a proxy's rewritten link).
            logger.warning("graph_paging_foreign_host", endpoint=endpoint, host=parsed.host[:100])
        for key, value in parsed.params.multi_items():
            if key.lower() not in _SECRET_PARAMS:
                query[key] = value
        return str(base.copy_with(path=parsed.path, query=None))

    def _attempt(
        self,
        method: str,
        url: str,
        query: dict[str, str],
        body: dict[str, str] | None,
        files: Mapping[str, FileField] | None,
        headers: dict[str, str],
    ) -> httpx.Response | httpx.HTTPError:
        try:
            return self._http.request(
                method, url, params=query, data=body, files=files, headers=headers
            )
        except httpx.HTTPError as exc:
            return exc

    def _transport_error(
        self,
        exc: httpx.HTTPError,
        method: str,
        endpoint: str,
        idempotent: bool,
        scrub: _Scrubber,
    ) -> GraphError:
        # A request that never left cannot have acted; any other failure after a POST may have.
        outcome_unknown = not idempotent and not isinstance(exc, _NOT_SENT)
        cls: type[GraphError]
        if isinstance(exc, httpx.TimeoutException):
            cls = GraphTimeoutError
        elif isinstance(exc, httpx.DecodingError):
            cls = GraphMalformedResponseError
        else:
            cls = GraphTransientError
        detail = scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        return cls(
            detail,
            user_message=user_message_for(
                cls,
                subcode=None,
                meta_user_message=None,
                meta_message=None,
                retry_after=None,
                outcome_unknown=outcome_unknown,
            ),
            outcome_unknown=outcome_unknown,
            method=method,
            endpoint=endpoint,
        )

    def _interpret(
        self,
        response: httpx.Response,
        method: str,
        endpoint: str,
        idempotent: bool,
        scrub: _Scrubber,
    ) -> GraphResponse | GraphError:
        status = response.status_code
        usage = parse_usage_headers(response.headers)
        self._local.usage = usage
        try:
            body: Any = response.json()
            is_json = True
        except ValueError:
            body, is_json = None, False
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return self._graph_error(error, response, usage, method, endpoint, idempotent, scrub)
        if 200 <= status < 300 and is_json and error is None:
            return GraphResponse(
                status_code=status, body=body, usage=usage, method=method, endpoint=endpoint
            )
        common: dict[str, Any] = {
            "http_status": status,
            "usage": usage,
            "method": method,
            "endpoint": endpoint,
        }
        if status >= 500 or status == 429:
            cls = classify_graph_error(http_status=status, code=None)
            retry_after = self._retry_after(response, usage, None) if status == 429 else None
            outcome_unknown = status >= 500 and not idempotent
            return cls(
                f"HTTP {status} without a Graph error object",
                user_message=user_message_for(
                    cls,
                    subcode=None,
                    meta_user_message=None,
                    meta_message=None,
                    retry_after=retry_after,
                    outcome_unknown=outcome_unknown,
                ),
                retry_after=retry_after,
                outcome_unknown=outcome_unknown,
                **common,
            )
        what = "an answer that is not JSON" if not is_json else "JSON without a Graph error object"
        # A 2xx we cannot read after a POST means Meta accepted something: reconcile first.
        return GraphMalformedResponseError(
            scrub(f"HTTP {status} with {what}"),
            outcome_unknown=200 <= status < 300 and not idempotent,
            **common,
        )

    def _graph_error(
        self,
        error: dict[str, Any],
        response: httpx.Response,
        usage: GraphUsage,
        method: str,
        endpoint: str,
        idempotent: bool,
        scrub: _Scrubber,
    ) -> GraphError:
        code = _as_int(error.get("code"))
        subcode = _as_int(error.get("error_subcode"))
        meta_message = _as_text(error.get("message"))
        meta_user_message = _as_text(error.get("error_user_msg"))
        meta_user_title = _as_text(error.get("error_user_title"))
        cls = classify_graph_error(
            http_status=response.status_code,
            code=code,
            subcode=subcode,
            is_transient=error.get("is_transient") is True,
        )
        retry_after = (
            self._retry_after(response, usage, subcode)
            if issubclass(cls, GraphRateLimitError)
            else None
        )
        outcome_unknown = (
            issubclass(cls, GraphTransientError)
            and not idempotent
            and (code, subcode) != IG_MEDIA_NOT_READY
        )
        meta_message = scrub(meta_message) if meta_message else None
        meta_user_message = scrub(meta_user_message) if meta_user_message else None
        return cls(
            meta_message or "Graph error without a message",
            user_message=user_message_for(
                cls,
                subcode=subcode,
                meta_user_message=meta_user_message,
                meta_message=meta_message,
                retry_after=retry_after,
                outcome_unknown=outcome_unknown,
            ),
            http_status=response.status_code,
            code=code,
            subcode=subcode,
            error_type=_as_text(error.get("type")),
            fbtrace_id=_as_text(error.get("fbtrace_id")),
            meta_message=meta_message,
            meta_user_title=scrub(meta_user_title) if meta_user_title else None,
            meta_user_message=meta_user_message,
            retry_after=retry_after,
            outcome_unknown=outcome_unknown,
            usage=usage,
            method=method,
            endpoint=endpoint,
        )

    def _retry_after(self, response: httpx.Response, usage: GraphUsage, subcode: int | None) -> int:
        estimate = usage.regain_access_seconds
        if estimate:
            return estimate
        header = _as_int(response.headers.get("retry-after", "").strip())
        if header and header > 0:
            return header
        if subcode == IG_PUBLISHING_LIMIT_SUBCODE:
            return self.config.publishing_limit_backoff_seconds
        return self.config.rate_limit_backoff_seconds

    def _backoff(self, attempt: int) -> float:
        ceiling = min(
            self.config.backoff_cap_seconds,
            self.config.backoff_base_seconds * (2 ** (attempt - 1)),
        )
        return self._jitter() * ceiling

    def _observe(
        self,
        method: str,
        endpoint: str,
        status: int | None,
        result: GraphResponse | GraphError,
        duration_ms: float,
        attempt: int,
        retry_in: float | None,
    ) -> None:
        error = result if isinstance(result, GraphError) else None
        usage = result.usage
        fields: dict[str, Any] = {
            "method": method,
            "endpoint": endpoint,
            "status": status,
            "code": error.code if error else None,
            "subcode": error.subcode if error else None,
            "error": type(error).__name__ if error else None,
            "duration_ms": duration_ms,
            "attempt": attempt,
        }
        if error is not None:
            fields["fbtrace_id"] = error.fbtrace_id
            if error.outcome_unknown:
                fields["outcome_unknown"] = True
            if error.retry_after is not None:
                fields["retry_after"] = error.retry_after
        if retry_in is not None:
            fields["retry_in_ms"] = round(retry_in * 1000, 1)
        if usage is not None and not usage.is_empty:
            fields["usage_pct"] = usage.max_percent
        if error is None:
            logger.info("graph_call", **fields)
        else:
            logger.warning("graph_call", **fields)
        record_graph_call(
            GraphCallRecord(
                method=method,
                endpoint=endpoint,
                status=status,
                outcome=type(error).__name__ if error else "ok",
                code=fields["code"],
                subcode=fields["subcode"],
                duration_ms=duration_ms,
                attempt=attempt,
                usage=usage,
            )
        )


# --- httpx's own request log ------------------------------------------------------------------


class _RedactHttpxRequestLog(logging.Filter):
    """httpx logs every request URL at INFO; the OAuth exchanges carry `client_secret` and `code`
    in theirs (Meta's documented GET form), so secrets are scrubbed before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _install_httpx_log_filter() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactHttpxRequestLog) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactHttpxRequestLog())


_install_httpx_log_filter()


# --- the process-wide client ------------------------------------------------------------------

_default_lock = threading.Lock()
_default_client: GraphClient | None = None
_default_pid: int | None = None


def get_client() -> GraphClient:
    """This process's shared client (created on first use from settings)."""
    global _default_client, _default_pid
    client, pid = _default_client, os.getpid()
    if client is not None and _default_pid == pid:
        return client
    with _default_lock:
        if _default_client is None or _default_pid != pid:
            _default_client = GraphClient(GraphConfig.from_settings())
            _default_pid = pid
        return _default_client


def set_client(client: GraphClient | None) -> GraphClient | None:
    """Install `client` as this process's shared client (None: build from settings on next use).

    Returns the previous one, which the caller may close. Tests and the sandbox use this.
    """
    global _default_client, _default_pid
    with _default_lock:
        previous = _default_client if _default_pid == os.getpid() else None
        _default_client = client
        _default_pid = os.getpid() if client is not None else None
    return previous


def close_client() -> None:
    """Close and forget the shared client; the next call builds a fresh one from settings."""
    previous = set_client(None)
    if previous is not None:
        previous.close()


def _forget_client_after_fork() -> None:
    # The child must not use (or close: TLS would notify the peer) the parent's connections.
    global _default_client, _default_pid
    _default_client = None
    _default_pid = None


os.register_at_fork(after_in_child=_forget_client_after_fork)


def _reset_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(("FACEBOOK_", "GRAPH_")):
        close_client()


def _connect_setting_changed() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(
        _reset_on_setting_changed, weak=False, dispatch_uid="apps.social.graph.reset_client"
    )


_connect_setting_changed()


class ClientSlot:
    """A process's client for another Graph host (graph.threads.net, graph.instagram.com): built
    on first use from ``configure()``, rebuilt after a fork, and dropped when a setting whose
    name starts with one of ``prefixes`` changes (tests, ``override_settings``)."""

    def __init__(self, configure: Callable[[], GraphConfig], *, prefixes: tuple[str, ...]) -> None:
        self._configure = configure
        self._prefixes = (*prefixes, "GRAPH_", "SANDBOX_")
        self._lock = threading.Lock()
        self._client: GraphClient | None = None
        self._pid: int | None = None
        from django.core.signals import setting_changed

        setting_changed.connect(self._reset, weak=False)

    def __call__(self) -> GraphClient:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = GraphClient(self._configure())
                self._pid = os.getpid()
            return self._client

    def _reset(self, *, setting: str, **kwargs: Any) -> None:
        if not setting.startswith(self._prefixes):
            return
        with self._lock:
            previous, self._client = self._client, None
        if previous is not None and self._pid == os.getpid():
            previous.close()
