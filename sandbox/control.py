"""The control API under `/_sandbox/` (JSON; not part of the Graph API): reset, faults, latency,
configuration, the sandbox clock, what was published, the call log, concurrency counters, and a
few conveniences for tests and benchmarks (minting tokens, signed requests). Networks add
their own endpoints (`Network.control`: the Facebook network's `/_sandbox/pages`) and their
part of `/_sandbox/published`."""

import base64
import hashlib
import hmac
import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from .context import CallContext
from .oauth import KNOWN_SCOPES
from .state import (
    CONTAINER_FAULTS,
    DEFAULT_EFFECT,
    DEMO_USER_ID,
    FAULT_KINDS,
    RUNTIME_KEYS,
    Fault,
    SandboxState,
    coerce_config_value,
    new_fault_id,
)
from .tokens import TokenClaims

DEFAULT_SCOPES = (
    "public_profile",
    "email",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_manage_engagement",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "business_management",
    "read_insights",
    "instagram_manage_insights",
)
MALFORMED_VARIANTS = ("html", "truncated", "wrong_shape", "empty")
FAULT_KEYS = frozenset({"kind", "method", "path", "match", "times", "probability"})


class ControlError(ValueError):
    """A control request that cannot be honoured (answered 400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _visible_type(state: SandboxState, object_id: str, claims: TokenClaims) -> str | None:
    """The node type of `object_id` if the token's user may see it (any network's), or None."""
    with state.lock:
        for network in state.networks:
            found = network.lookup(state, object_id, claims, CallContext())
            if found is not None:
                return found[0]
    return None


def parse_fault(data: Any) -> Fault:
    """A fault from its JSON description (see docs/sandbox.md)."""
    if not isinstance(data, dict):
        raise ControlError("a fault is a JSON object")
    kind = data.get("kind")
    if kind not in FAULT_KINDS:
        raise ControlError(f"kind must be one of {sorted(FAULT_KINDS)}")
    method, path = data.get("method"), data.get("path")
    if data.get("match"):
        method, _, path = str(data["match"]).strip().partition(" ")
    default_method, default_path = ("POST", "/*/media") if kind in CONTAINER_FAULTS else ("*", "*")
    method = str(method or default_method).upper()
    path = str(path or default_path).strip()
    if path != "*" and not path.startswith("/"):
        raise ControlError("path is a glob over the path, e.g. /*/feed (or * for every path)")
    times = data.get("times", 1)
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ControlError("times is a positive integer, or null for every matching call")
    probability = data.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, int | float):
        raise ControlError("probability is a number between 0 and 1")
    if not 0 < float(probability) <= 1:
        raise ControlError("probability is a number between 0 and 1")
    params = {k: v for k, v in data.items() if k not in FAULT_KEYS}
    params["effect"] = _effect(kind, params.get("effect"))
    _check_params(kind, params)
    return Fault(
        id=new_fault_id(),
        kind=kind,
        method=method,
        path=path,
        times=times,
        probability=float(probability),
        params=params,
    )


def _effect(kind: str, raw: Any) -> str:
    """`effect` made "before" or "after"; `true`/`false` (malformed's old switch) still work."""
    default = DEFAULT_EFFECT[kind]
    if raw is None:
        return default
    if isinstance(raw, bool):
        effect = "after" if raw else "before"
    elif raw in ("before", "after"):
        effect = str(raw)
    else:
        raise ControlError('effect is "before" (nothing is done) or "after" (the call acts)')
    if kind in ("timeout_after_effect", "timeout_before_effect") and effect != default:
        raise ControlError(f"a {kind} fault has effect {default!r}; use kind timeout with effect")
    if kind in CONTAINER_FAULTS and effect != "after":
        raise ControlError(f'a {kind} fault acts on the container created: effect is "after"')
    return effect


def _check_params(kind: str, params: dict[str, Any]) -> None:
    for key in ("seconds", "minutes"):
        if key in params and (
            isinstance(params[key], bool)
            or not isinstance(params[key], int | float)
            or params[key] < 0
        ):
            raise ControlError(f"{key} is a number >= 0")
    for key in ("status", "code", "subcode"):
        if key in params and (isinstance(params[key], bool) or not isinstance(params[key], int)):
            raise ControlError(f"{key} is an integer")
    if kind == "rate_limit" and params.get("code", 4) not in (4, 17, 32, 613, 80001, 80002):
        raise ControlError("a rate_limit fault has code 4, 17, 32, 613, 80001 or 80002")
    if kind == "revoke_token":
        if params.get("subcode", 458) not in (458, 460, 467):
            raise ControlError("a revoke_token fault has subcode 458, 460 or 467")
        if params.get("scope", "user") not in ("user", "token"):
            raise ControlError("a revoke_token fault has scope 'user' or 'token'")
    if kind == "malformed" and params.get("variant", "html") not in MALFORMED_VARIANTS:
        raise ControlError(f"a malformed fault has variant one of {list(MALFORMED_VARIANTS)}")


def repeats(counter: Counter[Any]) -> int:
    """How many items are extra copies of another one."""
    return sum(count - 1 for key, count in counter.items() if count > 1 and key)


def published(state: SandboxState, base_url: str) -> dict[str, Any]:
    """Everything published, with enough detail to prove nothing was published twice: each
    network's lists (per post and per media how many others carry the same content and the
    same text) and its counts in `summary`."""
    out: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    with state.lock:
        for network in state.networks:
            lists, counts = network.published(state, base_url)
            out.update(lists)
            summary.update(counts)
    out["summary"] = summary
    return out


def mint_token(state: SandboxState, data: dict[str, Any]) -> dict[str, Any]:
    """A token without the OAuth dance (for tests and benchmarks of the product)."""
    kind = data.get("kind", "long")
    if kind not in ("short", "long", "page"):
        raise ControlError("kind is short, long or page")
    user_id = str(data.get("user_id") or DEMO_USER_ID)
    if user_id not in state.users:
        raise ControlError(f"unknown user {user_id}")
    scopes = data.get("scopes") or list(DEFAULT_SCOPES)
    if not isinstance(scopes, list) or any(s not in KNOWN_SCOPES for s in scopes):
        raise ControlError("scopes is a list of known permission names")
    long_lived = kind in ("long", "page")
    lifetime = state.config.long_token_seconds if long_lived else state.config.short_token_seconds
    if data.get("expires_in") is not None:
        lifetime = int(data["expires_in"])
    claims = state.signer.issue_user(
        user_id=user_id,
        scopes=tuple(scopes),
        now=state.now(),
        lifetime=lifetime,
        long_lived=long_lived and data.get("expires_in") is None,
    )
    if kind == "page":
        page_id = str(data.get("page_id") or "")
        if _visible_type(state, page_id, claims) != "Page":
            raise ControlError("page_id must be a Page the user manages")
        claims = state.signer.derive_page(claims, page_id)
    answer: dict[str, Any] = {"access_token": state.signer.encode(claims), "kind": kind}
    if claims.expires_at:
        answer["expires_in"] = int(claims.expires_at - state.now())
    return answer


def delete_object(state: SandboxState, data: dict[str, Any]) -> dict[str, Any]:
    """A post or media deleted by its owner on the network (`{"id": ...}`): every Graph call
    about it then gets Meta's "does not exist" (code 100, subcode 33)."""
    object_id = str(data.get("id") or "")
    if not object_id:
        raise ControlError("id is the id of a published post or media")
    with state.lock:
        gone = any(network.forget(state, object_id) for network in state.networks)
        if gone:
            state.save()
    if not gone:
        raise ControlError(f"nothing published has id {object_id}", status=404)
    return {"deleted": object_id}


def signed_request(state: SandboxState, data: dict[str, Any]) -> dict[str, Any]:
    """A `signed_request` as Meta posts to the deauthorize and data-deletion callbacks."""
    payload = {
        "algorithm": "HMAC-SHA256",
        "issued_at": int(state.now()),
        "user_id": str(data.get("user_id") or DEMO_USER_ID),
    }
    encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=")
    signature = hmac.new(state.config.app_secret.encode(), encoded, hashlib.sha256).digest()
    sig = base64.urlsafe_b64encode(signature).rstrip(b"=")
    return {"signed_request": f"{sig.decode()}.{encoded.decode()}", "payload": payload}


def config_view(state: SandboxState) -> dict[str, Any]:
    data = asdict(state.config)
    data.pop("app_secret", None)
    return data


def update_config(state: SandboxState, data: dict[str, Any]) -> dict[str, Any]:
    unknown = [k for k in data if k not in RUNTIME_KEYS]
    if unknown:
        raise ControlError(f"cannot change {unknown}; changeable: {sorted(RUNTIME_KEYS)}")
    values = {}
    for key, value in data.items():
        try:
            values[key] = coerce_config_value(key, value)
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
    with state.lock:
        for key, value in values.items():
            setattr(state.config, key, value)
    return config_view(state)


def handle_control(
    state: SandboxState, method: str, path: str, data: Any, query: dict[str, str], base_url: str
) -> tuple[int, Any]:
    """Answer one `/_sandbox/...` JSON request: (HTTP status, body)."""
    parts = [p for p in path.split("/") if p][1:]
    name = parts[0] if parts else ""
    body = data if isinstance(data, dict) else {}
    if name == "reset" and method == "POST":
        state.reset()
        return 200, {"reset": True}
    if name == "faults":
        return _faults(state, method, parts, data)
    if name == "latency":
        if method == "POST":
            changes: dict[str, Any] = {}
            if "ms" in body:
                changes["latency_ms"] = body["ms"]
            if "paths" in body:
                changes["latency_paths"] = body["paths"]
            update_config(state, changes)
        return 200, {"ms": state.config.latency_ms, "paths": state.config.latency_paths}
    if name == "published" and method == "GET":
        return 200, published(state, base_url)
    if name == "calls":
        if method == "DELETE":
            with state.lock:
                state.calls.clear()
            return 200, {"cleared": True}
        since = int(query.get("since", "0") or 0)
        with state.lock:
            calls = [c for c in state.calls if c["seq"] > since]
        limit = int(query.get("limit", "0") or 0)
        if limit > 0:
            calls = calls[-limit:]
        return 200, {"calls": calls, "last_seq": state.call_seq}
    if name == "config":
        if method == "POST":
            return 200, update_config(state, body)
        return 200, config_view(state)
    if name == "clock":
        if method == "POST":
            with state.lock:
                if "offset_seconds" in body:
                    state.clock_offset = float(body["offset_seconds"])
                state.clock_offset += float(body.get("advance_seconds", 0))
                state.save()
        return 200, {"now": state.now(), "offset_seconds": state.clock_offset}
    if name == "stats":
        with state.lock:
            if method == "DELETE":
                state.max_in_flight = state.in_flight
            return 200, {
                "in_flight": state.in_flight,
                "max_in_flight": state.max_in_flight,
                "requests_total": state.requests_total,
            }
    if name == "deleted" and method == "POST":
        return 200, delete_object(state, body)
    if name == "tokens" and method == "POST":
        return 200, mint_token(state, body)
    if name == "signed_request" and method == "POST":
        return 200, signed_request(state, body)
    for network in state.networks:
        handler = network.control().get(name)
        if handler is not None:
            return 200, handler(state, method, parts[1:], body)
    raise ControlError(f"no control endpoint {method} {path}", status=404)


def _faults(state: SandboxState, method: str, parts: list[str], data: Any) -> tuple[int, Any]:
    if method == "GET":
        with state.lock:
            return 200, {"faults": [f.to_dict() for f in state.faults]}
    if method == "DELETE":
        with state.lock:
            if len(parts) > 1:
                before = len(state.faults)
                state.faults[:] = [f for f in state.faults if f.id != parts[1]]
                if len(state.faults) == before:
                    raise ControlError(f"no fault {parts[1]}", status=404)
            else:
                state.faults.clear()
        return 200, {"deleted": True}
    if method == "POST":
        items = data.get("faults") if isinstance(data, dict) and "faults" in data else data
        items = items if isinstance(items, list) else [items]
        faults = [parse_fault(item) for item in items]
        for fault in faults:
            state.add_fault(fault)
        return 201, {"faults": [f.to_dict() for f in faults]}
    raise ControlError(f"no control endpoint {method} /_sandbox/faults", status=404)
