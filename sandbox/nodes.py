"""How Graph nodes render: the fields asked for, their defaults, and field expansion.

`Renderer.render(node_type, record, specs)` returns exactly the fields asked for (plus `id`), as
the Graph API does; an unknown field is Meta's "(#100) Tried accessing nonexisting field" error.
A field that exists but has no value, or needs a permission the token lacks, is left out.

Each network registers its node types and their field tables (`registry.NodeType`); this
module renders any of them, and holds what every network shares: the user of Facebook Login,
pictures, summary edges and the engagement curve.
"""

import hashlib
import math
from typing import TYPE_CHECKING, Any

from .context import Viewer
from .errors import nonexisting_field
from .fields import FieldSpec, specs_for
from .registry import NodeType, Resolver
from .state import SandboxState, UserRecord

if TYPE_CHECKING:
    from .registry import Registry

MISSING: Any = object()

# User fields Meta knows but returns only with permissions this app never gets.
_RESTRICTED_USER_FIELDS = frozenset(
    {
        "birthday",
        "gender",
        "link",
        "locale",
        "timezone",
        "updated_time",
        "verified",
        "middle_name",
        "hometown",
        "location",
        "age_range",
        "install_type",
        "installed",
    }
)


def engagement(object_id: str, created: float, now: float) -> dict[str, int]:
    """Likes, comments, shares and reactions: zero at publication, growing with time since,
    the same for the same object and moment (seeded by the id)."""
    minutes = max(0.0, (now - created) / 60.0)
    digest = hashlib.sha256(object_id.encode()).digest()

    def spread(index: int) -> float:
        return 0.6 + digest[index] / 255.0

    likes = int(spread(0) * (40 * (1 - math.exp(-minutes / 240)) + minutes / 90))
    comments = int(spread(1) * (8 * (1 - math.exp(-minutes / 300)) + minutes / 600))
    shares = int(spread(2) * (5 * (1 - math.exp(-minutes / 360)) + minutes / 1440))
    reactions = likes + int(spread(3) * likes * 0.25)
    return {"likes": likes, "comments": comments, "shares": shares, "reactions": reactions}


class Renderer:
    """Renders nodes for one call (one viewer, one base URL, one moment)."""

    def __init__(
        self, state: SandboxState, registry: "Registry", viewer: Viewer | None, base_url: str
    ) -> None:
        self.state = state
        self.registry = registry
        self.viewer = viewer
        self.base_url = base_url
        self.now = state.now()
        self._tables: dict[str, dict[str, Resolver]] = {}

    # --- generic ------------------------------------------------------------------------------

    def _table(self, node_type: str) -> dict[str, Resolver]:
        table = self._tables.get(node_type)
        if table is None:
            table = self._tables[node_type] = self.registry.field_table(node_type, self)
        return table

    def render(self, node_type: str, record: Any, specs: list[FieldSpec] | None) -> dict[str, Any]:
        table = self._table(node_type)
        kind = self.registry.node_types[node_type]
        wanted = specs if specs is not None else specs_for(kind.default_fields)
        out: dict[str, Any] = {}
        for spec in wanted:
            resolver = table.get(spec.name)
            if resolver is None:
                if node_type == "User" and spec.name in _RESTRICTED_USER_FIELDS:
                    continue
                raise nonexisting_field(spec.name, kind.shown_as or node_type)
            value = resolver(record, spec)
            if value is not MISSING:
                out[spec.name] = value
        if "id" not in out:
            # As the node's own `id` field says it (a host may name an object by another id:
            # Instagram with Instagram Login answers the app-scoped id).
            id_field = table.get("id")
            out["id"] = id_field(record, FieldSpec("id")) if id_field else record.id
        return out

    def picture_url(self, object_id: str) -> str:
        return f"{self.base_url}/_sandbox/pictures/{object_id}"

    def view_url(self, object_id: str) -> str:
        return f"{self.base_url}/_sandbox/view/{object_id}"

    def picture(self, object_id: str, spec: FieldSpec, url: str | None = None) -> Any:
        size = spec.int_modifier("width", spec.int_modifier("height", 50))
        data = {
            "height": size,
            "is_silhouette": False,
            "url": url or self.picture_url(object_id),
            "width": size,
        }
        if spec.children:
            inner = spec.children
            if len(inner) == 1 and inner[0].name == "data" and inner[0].children:
                inner = inner[0].children
            data = {c.name: data[c.name] for c in inner if c.name in data}
        return {"data": data}

    def summary_edge(self, kind: str, counts: dict[str, int], spec: FieldSpec) -> Any:
        """`likes`, `comments`, `reactions` as fields: no items, a `summary` when asked for."""
        body: dict[str, Any] = {"data": []}
        if spec.flag("summary"):
            total = counts[kind]
            if kind == "likes":
                body["summary"] = {"total_count": total, "can_like": True, "has_liked": False}
            elif kind == "comments":
                body["summary"] = {"order": "ranked", "total_count": total, "can_comment": True}
            else:
                body["summary"] = {"total_count": total, "viewer_reaction": "NONE"}
        return body

    def has_scope(self, *scopes: str) -> bool:
        claims = self.viewer.claims if self.viewer else None
        return bool(claims and claims.has_scope(*scopes))


# --- the user of Facebook Login (every network's `/me` with a user token) ----------------------


def _user_fields(renderer: Renderer) -> dict[str, Resolver]:
    def email(user: UserRecord, spec: FieldSpec) -> Any:
        return user.email if renderer.has_scope("email") else MISSING

    return {
        "id": lambda u, s: u.id,
        "name": lambda u, s: u.name,
        "first_name": lambda u, s: u.first_name,
        "last_name": lambda u, s: u.last_name,
        "short_name": lambda u, s: u.first_name,
        "name_format": lambda u, s: "{first} {last}",
        "email": email,
        "picture": lambda u, s: renderer.picture(u.id, s),
    }


USER = NodeType("User", "/{user-id}", ("name", "id"), _user_fields)
