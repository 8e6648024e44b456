"""What the person who connected a Page may do on it: their *tasks* on the Page (Meta's Page
roles, e.g. ANALYZE, MODERATE, CREATE_CONTENT, MANAGE)."""

from collections.abc import Iterable

from ._shape import Shape
from .client import GraphClient, get_client

# Posting to a Page feed needs it, and so does publishing to the Instagram account linked to the
# Page (Meta: "MANAGE or CREATE_CONTENT"; someone with MANAGE has CREATE_CONTENT too).
PUBLISHING_TASK = "CREATE_CONTENT"


def can_publish(tasks: Iterable[str]) -> bool:
    """Whether these tasks let their holder publish to the Page (and its Instagram account)."""
    return PUBLISHING_TASK in set(tasks)


def get_page_tasks(
    *, page_id: str, page_token: str, client: GraphClient | None = None
) -> tuple[str, ...] | None:
    """The tasks that the user behind `page_token` has on the Page (`GET /{page-id}?fields=tasks`
    with the Page token). None when Meta does not say (the field is missing)."""
    response = (client or get_client()).request(
        "GET", "/{id}", ids=(page_id,), token=page_token, params={"fields": "tasks"}
    )
    shape = Shape(response)
    root = shape.root()
    if root.get("tasks") is None:
        return None
    return shape.strings(root, "tasks")
