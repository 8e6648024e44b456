"""Comments a caller posts (a first comment under a post or a media), as Facebook Pages and
Instagram share them: the record, the Comment node's fields, creating one, and the read-out
that lets a test assert "exactly once" (per post, how many comments and how many repeat the
same message). Each network keeps its comments in its own store and checks its own
permissions; the synthetic engagement counts (`nodes.engagement`) are unchanged."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from . import errors
from .context import graph_time
from .nodes import Renderer
from .registry import Resolver
from .state import SandboxState

MESSAGE_MAX = 8000


@dataclass(slots=True)
class CommentRecord:
    id: str
    target_id: str  # the post, photo, video or media commented on
    owner_id: str  # the Page or Instagram account it was posted as
    message: str
    created_time: float
    author_name: str = ""


def comment_fields(r: Renderer) -> dict[str, Resolver]:
    return {
        "id": lambda c, s: c.id,
        "message": lambda c, s: c.message,
        "text": lambda c, s: c.message,
        "created_time": lambda c, s: graph_time(c.created_time),
        "timestamp": lambda c, s: graph_time(c.created_time),
        "from": lambda c, s: {"id": c.owner_id, "name": c.author_name},
        "username": lambda c, s: c.author_name,
    }


def add_comment(
    state: SandboxState,
    comments: dict[str, CommentRecord],
    *,
    message: str | None,
    target_id: str,
    owner_id: str,
    author_name: str,
    comment_id: str,
) -> CommentRecord:
    """Record a comment (call under the state lock); `comment_id` is the network's id format
    with `{n}` for a fresh number."""
    if not message or not message.strip():
        raise errors.missing_param("message")
    if len(message) > MESSAGE_MAX:
        raise errors.invalid_param(f"(#100) A comment is at most {MESSAGE_MAX} characters")
    number = state.next_number()
    comment = CommentRecord(
        id=comment_id.format(n=number),
        target_id=target_id,
        owner_id=owner_id,
        message=message,
        created_time=state.now(),
        author_name=author_name,
    )
    comments[comment.id] = comment
    state.save()
    return comment


def readout(
    comments: dict[str, CommentRecord], prefix: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`{prefix}_comments` (each with `same_message_count`) and the summary: how many, per
    target, and `{prefix}_comments_published_twice` (targets with one message twice: [])."""
    ordered = sorted(comments.values(), key=lambda c: c.created_time)
    same = Counter((c.target_id, c.message.strip()) for c in ordered)
    per_target = Counter(c.target_id for c in ordered)
    entries = [
        {
            "id": c.id,
            "target_id": c.target_id,
            "owner_id": c.owner_id,
            "message": c.message,
            "created_time": graph_time(c.created_time),
            "comments_on_target": per_target[c.target_id],
            "same_message_count": same[(c.target_id, c.message.strip())],
        }
        for c in ordered
    ]
    twice = sorted({target for (target, _), n in same.items() if n > 1})
    summary = {
        f"{prefix}_comments": len(entries),
        f"{prefix}_comments_per_target": dict(per_target),
        f"{prefix}_comments_published_twice": twice,
    }
    return {f"{prefix}_comments": entries}, summary


def comments_on(comments: dict[str, CommentRecord], target_id: str) -> list[CommentRecord]:
    """The comments under one object, oldest first (Meta's chronological order of
    `GET /{object-id}/comments`)."""
    return sorted(
        (c for c in comments.values() if c.target_id == target_id),
        key=lambda c: (c.created_time, c.id),
    )
