"""The control API under `/_sandbox/` (JSON; not part of the Graph API): reset, faults, latency,
configuration, the sandbox clock, what was published, the call log, concurrency counters, and a
few conveniences for tests and benchmarks (minting tokens, adding Pages, signed requests)."""

import base64
import hashlib
import hmac
import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from .context import graph_time
from .nodes import container_status
from .oauth import KNOWN_SCOPES
from .publishing import content_key
from .state import (
    CONTAINER_FAULTS,
    DEFAULT_EFFECT,
    DEFAULT_PAGE_TASKS,
    DEMO_USER_ID,
    FAULT_KINDS,
    PAGE_TASKS,
    RUNTIME_KEYS,
    Fault,
    IgAccountRecord,
    IgMediaRecord,
    PageRecord,
    PostRecord,
    SandboxState,
    coerce_config_value,
    new_fault_id,
)

DEFAULT_SCOPES = (
    "public_profile",
    "email",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "instagram_basic",
    "instagram_content_publish",
    "business_management",
)
MALFORMED_VARIANTS = ("html", "truncated", "wrong_shape", "empty")
FAULT_KEYS = frozenset({"kind", "method", "path", "match", "times", "probability"})


class ControlError(ValueError):
    """A control request that cannot be honoured (answered 400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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


def _media_sources(state: SandboxState, media: IgMediaRecord) -> list[dict[str, Any]]:
    container = state.containers.get(media.container_id)
    if container is None:
        return []
    ids = container.children or [container.id]
    sources = [state.containers[i].image for i in ids if i in state.containers]
    return [source.to_dict() for source in sources if source is not None]


def _post_kind(post: PostRecord) -> str:
    if len(post.photo_ids) > 1:
        return "album"
    if post.photo_ids:
        return "photo"
    return "link" if post.link else "text"


def _media_key(state: SandboxState, media: IgMediaRecord) -> str:
    """Same account, same caption, same images (by sha256 when fetched, else by URL)."""
    container = state.containers.get(media.container_id)
    ids = (container.children or [container.id]) if container else []
    images = []
    for container_id in ids:
        child = state.containers.get(container_id)
        if child is not None:
            images.append((child.image.sha256 if child.image else None) or child.image_url or "")
    return content_key(media.ig_user_id, media.caption or "", None, images)


def _repeats(counter: Counter[Any]) -> int:
    """How many items are extra copies of another one."""
    return sum(count - 1 for key, count in counter.items() if count > 1 and key)


def published(state: SandboxState, base_url: str) -> dict[str, Any]:
    """Everything published, with enough detail to prove nothing was published twice: per post
    and per Instagram media how many others carry the same content (and the same text)."""
    now = state.now()
    with state.lock:
        content = Counter(p.content_key for p in state.posts.values())
        messages = Counter(
            (p.page_id, p.message.strip()) if p.message.strip() else None
            for p in state.posts.values()
        )
        posts = [
            {
                "id": p.id,
                "target_id": p.page_id,
                "target_name": state.pages[p.page_id].name if p.page_id in state.pages else "",
                "kind": _post_kind(p),
                "edge": p.edge,
                "message": p.message,
                "link": p.link,
                "photo_ids": p.photo_ids,
                "image_sources": [
                    state.photos[i].source.to_dict() for i in p.photo_ids if i in state.photos
                ],
                "published": p.published,
                "status_type": p.status_type,
                "created_time": graph_time(p.created_time),
                "created_at": p.created_time,
                "permalink_url": f"{base_url}/_sandbox/view/{p.id}",
                "content_key": p.content_key,
                "same_content_count": content[p.content_key],
                "same_message_count": messages[(p.page_id, p.message.strip())]
                if p.message.strip()
                else 1,
            }
            for p in sorted(state.posts.values(), key=lambda p: p.created_time)
        ]
        photos = [
            {
                "id": p.id,
                "target_id": p.page_id,
                "caption": p.caption,
                "published": p.published,
                "post_id": p.post_id,
                "used_in_post_id": p.used_in_post_id,
                "source": p.source.to_dict(),
                "created_time": graph_time(p.created_time),
            }
            for p in sorted(state.photos.values(), key=lambda p: p.created_time)
        ]
        containers: list[dict[str, Any]] = []
        for c in sorted(state.containers.values(), key=lambda c: c.created_time):
            status_code, status = container_status(state, c, now)
            containers.append(
                {
                    "id": c.id,
                    "target_id": c.ig_user_id,
                    "media_type": c.media_type,
                    "is_carousel_item": c.is_carousel_item,
                    "caption": c.caption,
                    "caption_ignored": c.caption_ignored,
                    "image_url": c.image_url,
                    "image": c.image.to_dict() if c.image else None,
                    "children": c.children,
                    "status_code": status_code,
                    "status": status,
                    "created_time": graph_time(c.created_time),
                    "published_media_id": c.published_media_id,
                    "publish_count": c.publish_count,
                    "publish_attempts": c.publish_attempts,
                }
            )
        top_media = sorted(
            (m for m in state.ig_media.values() if not m.is_carousel_child),
            key=lambda m: m.timestamp,
        )
        media_keys = {m.id: _media_key(state, m) for m in top_media}
        media_content = Counter(media_keys.values())
        captions = Counter(
            (m.ig_user_id, (m.caption or "").strip()) if (m.caption or "").strip() else None
            for m in top_media
        )
        media = [
            {
                "id": m.id,
                "target_id": m.ig_user_id,
                "username": state.ig_accounts[m.ig_user_id].username
                if m.ig_user_id in state.ig_accounts
                else "",
                "container_id": m.container_id,
                "caption": m.caption,
                "media_type": m.media_type,
                "children": m.children,
                "image_sources": _media_sources(state, m),
                "image_urls": m.image_urls,
                "timestamp": graph_time(m.timestamp),
                "created_at": m.timestamp,
                "permalink": f"{base_url}/_sandbox/view/{m.id}",
                "content_key": media_keys[m.id],
                "same_content_count": media_content[media_keys[m.id]],
                "same_caption_count": captions[(m.ig_user_id, (m.caption or "").strip())]
                if (m.caption or "").strip()
                else 1,
            }
            for m in top_media
        ]
        refusals = [dict(r) for r in state.duplicate_refusals]
    twice = [c["id"] for c in containers if c["publish_count"] > 1]
    return {
        "page_posts": posts,
        "photos": photos,
        "instagram_media": media,
        "containers": containers,
        "summary": {
            "page_posts": len(posts),
            "page_posts_by_kind": dict(Counter(p["kind"] for p in posts)),
            "photos": len(photos),
            "photos_unattached": sum(
                1 for p in photos if not p["published"] and not p["used_in_post_id"]
            ),
            "instagram_media": len(media),
            "instagram_media_by_type": dict(Counter(m["media_type"] for m in media)),
            "containers": len(containers),
            "posts_with_repeated_content": _repeats(content),
            "posts_with_repeated_message": _repeats(messages),
            "instagram_media_with_repeated_content": _repeats(media_content),
            "instagram_media_with_repeated_caption": _repeats(captions),
            "containers_published_twice": twice,
            "duplicate_statuses_refused": len(refusals),
        },
        "duplicate_refusals": refusals,
    }


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
        page = state.pages.get(page_id)
        if page is None or user_id not in page.manager_ids:
            raise ControlError("page_id must be a Page the user manages")
        claims = state.signer.derive_page(claims, page_id)
    answer: dict[str, Any] = {"access_token": state.signer.encode(claims), "kind": kind}
    if claims.expires_at:
        answer["expires_in"] = int(claims.expires_at - state.now())
    return answer


def parse_tasks(value: Any) -> list[str]:
    """A Page's task list from JSON: known task names, at least one, in Meta's order."""
    if not isinstance(value, list) or not value or any(t not in PAGE_TASKS for t in value):
        raise ControlError(f"tasks is a non-empty list of {list(PAGE_TASKS)}")
    return [t for t in PAGE_TASKS if t in value]


def page_view(state: SandboxState, page: PageRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": page.id,
        "name": page.name,
        "tasks": list(page.tasks),
        "in_accounts": page.in_accounts,
    }
    account = state.ig_of_page(page.id)
    if account is not None:
        entry["instagram_business_account"] = {"id": account.id, "username": account.username}
    return entry


def add_pages(state: SandboxState, data: dict[str, Any]) -> dict[str, Any]:
    """More Pages for the demo user (benchmarks publish to a hundred accounts)."""
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ControlError("count is an integer from 1 to 1000")
    tasks = parse_tasks(data["tasks"]) if "tasks" in data else list(DEFAULT_PAGE_TASKS)
    with_instagram = bool(data.get("instagram", True))
    in_accounts = bool(data.get("in_accounts", True))
    prefix = str(data.get("name_prefix") or "Load Test Page")
    created = []
    with state.lock:
        for _ in range(count):
            number = state.next_number()
            page_id = str(101_000_000_100_000 + number)
            ig_id = str(17_841_400_000_100_000 + number) if with_instagram else None
            page = PageRecord(
                id=page_id,
                name=f"{prefix} {number}",
                category="Restaurant",
                manager_ids=[DEMO_USER_ID],
                ig_id=ig_id,
                in_accounts=in_accounts,
                tasks=list(tasks),
                extra=True,
            )
            state.pages[page_id] = page
            if ig_id:
                state.ig_accounts[ig_id] = IgAccountRecord(
                    ig_id, f"loadtest{number}", page.name, page_id, extra=True
                )
            if not in_accounts:
                state.businesses[next(iter(state.businesses))].owned_page_ids.append(page_id)
            created.append(page_view(state, page))
        state.save()
    return {"pages": created}


def change_page(state: SandboxState, page_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a Page at runtime (today: the demo user's tasks on it). Tokens already issued stay
    valid, as with Meta; what they may do follows the new tasks at once."""
    unknown = sorted(set(data) - {"tasks"})
    if unknown:
        raise ControlError(f"cannot change {unknown}; changeable: ['tasks']")
    with state.lock:
        page = state.pages.get(page_id)
        if page is None:
            raise ControlError(f"no Page {page_id}", status=404)
        if "tasks" in data:
            page.tasks = parse_tasks(data["tasks"])
        state.save()
        return page_view(state, page)


def _pages(state: SandboxState, method: str, parts: list[str], body: dict[str, Any]) -> Any:
    if len(parts) == 1:
        if method == "POST":
            return add_pages(state, body)
        if method == "GET":
            with state.lock:
                return {"pages": [page_view(state, p) for p in state.pages.values()]}
    if len(parts) == 2:
        if method == "POST":
            return change_page(state, parts[1], body)
        if method == "GET":
            with state.lock:
                page = state.pages.get(parts[1])
                if page is None:
                    raise ControlError(f"no Page {parts[1]}", status=404)
                return page_view(state, page)
    raise ControlError(f"no control endpoint {method} /_sandbox/{'/'.join(parts)}", status=404)


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
    if name == "tokens" and method == "POST":
        return 200, mint_token(state, body)
    if name == "pages":
        return 200, _pages(state, method, parts, body)
    if name == "signed_request" and method == "POST":
        return 200, signed_request(state, body)
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
