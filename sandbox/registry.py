"""How a network plugs into the sandbox: `Network`, what it registers, and `Mount`, where a set
of networks is served.

The core (server, routing, tokens, the OAuth dialog, errors, faults, paging, the control API)
knows no network. A network module (`sandbox/networks/facebook.py`, `instagram.py`, ...) subclasses
`Network` and registers:

- **node types** (`NodeType`: the fields of each object it serves, their defaults, the path
  template of the call log) and **fields it adds to another network's node types**;
- **lookups**: which object an id is, for the caller's token (`lookup`, `me`);
- **edges** (`/{object-id}/{edge}` per method) and **routes** (fixed paths such as
  `/oauth/access_token`);
- **state**: a store of its records (`create_store`), cleared on reset and written to the state
  file under its own keys;
- **token kinds and permissions** it uses (checked against the token format of `tokens.py`);
- **control endpoints** (`/_sandbox/<name>`) and its part of `/_sandbox/published`;
- **HTML**: its section of the home page and the view page of its objects.

A `Mount` serves some networks together as one Graph host: the Facebook Graph API and the
Instagram Graph API share one (`graph.facebook.com`); another host (Threads,
`graph.threads.net`; Instagram with Instagram Login, `graph.instagram.com`) is a mount of its
own under a path prefix (`/threads/...`, `/instagram/...`) or on its own port, without any
change to the others. Networks of different mounts may register node types of the same name
(Instagram with Instagram Login reuses Instagram's); within one mount a name is taken once.
See docs/sandbox.md ("How a network plugs in").
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .context import CallContext, Request, Viewer
from .fields import FieldSpec
from .tokens import KINDS, SCOPE_BITS, TokenClaims

if TYPE_CHECKING:
    from .graph import Graph
    from .nodes import Renderer
    from .state import SandboxState, UserRecord

Resolver = Callable[[Any, FieldSpec], Any]
FieldTable = Callable[["Renderer"], dict[str, Resolver]]
EdgeHandler = Callable[[Request, CallContext, Viewer, Any], Any]
RouteHandler = Callable[[Request, CallContext], Any]
EdgeKey = tuple[str, str, str]  # (node type, edge, method)
ControlHandler = Callable[["SandboxState", str, list[str], dict[str, Any]], Any]
Found = tuple[str, Any]  # (node type, record)


@dataclass(frozen=True, slots=True)
class NodeType:
    """One kind of Graph object: how it renders and how the call log names its path."""

    name: str
    # The call log's path template, e.g. "/{page-id}".
    template: str
    default_fields: tuple[str, ...]
    fields: FieldTable
    # The type named in "nonexisting field" errors when it is not `name` (AccountsEntry: Page).
    shown_as: str | None = None


class Network:
    """One network of the sandbox. Every hook has an empty default: override what applies."""

    # A short name (the key of its store, its control endpoints' prefix in the docs).
    name = ""
    # What the home page and the docs call it.
    label = ""
    # The permissions and token kinds its calls check (they must exist in tokens.py's format).
    scopes: tuple[str, ...] = ()
    token_kinds: tuple[str, ...] = ()
    # Token kinds that belong to this network's host alone (Threads tokens at graph.threads.net):
    # its mount accepts only these, and every other mount refuses them as unparsable, as a token
    # of another Meta host is.
    host_token_kinds: tuple[str, ...] = ()
    # Paths (without version prefix) at which its mount serves the sandbox's consent dialog,
    # for a network with a login of its own ("/oauth/authorize" for Threads).
    dialog_paths: tuple[str, ...] = ()

    # --- state --------------------------------------------------------------------------------

    def create_store(self, state: "SandboxState") -> Any | None:
        """Its records (see `state.NetworkStore`), or None when it keeps none."""
        return None

    # --- the Graph API ------------------------------------------------------------------------

    def node_types(self) -> Iterable[NodeType]:
        return ()

    def field_extensions(self) -> dict[str, FieldTable]:
        """Fields it adds to node types of other networks (node type → table)."""
        return {}

    def me(self, state: "SandboxState", claims: TokenClaims) -> Found | None:
        """What `/me` is for this token when it is not the user (a Page token: the Page)."""
        return None

    def lookup(
        self, state: "SandboxState", object_id: str, claims: TokenClaims | None, ctx: CallContext
    ) -> Found | None:
        """The object `object_id` names if it is this network's and the token may see it
        (called under the state lock); note business objects on `ctx` for the usage headers."""
        return None

    def edges(self, graph: "Graph") -> dict[EdgeKey, EdgeHandler]:
        return {}

    def routes(self, graph: "Graph") -> dict[str, RouteHandler]:
        """Fixed paths (without version prefix, e.g. "/oauth/access_token") → handler."""
        return {}

    # --- login --------------------------------------------------------------------------------

    def scope_targets(self, state: "SandboxState", user_id: str) -> dict[str, list[str]]:
        """`debug_token`'s `granular_scopes`: permission → the ids it was granted on."""
        return {}

    def dialog_note(self, state: "SandboxState", user: "UserRecord") -> str:
        """HTML shown on the consent dialog (what the user manages here), or ""."""
        return ""

    # --- the control API, the read-out and the HTML pages ---------------------------------------

    def control(self) -> dict[str, ControlHandler]:
        """`/_sandbox/<name>[/...]` handlers: (state, method, path parts after name, body)."""
        return {}

    def forget(self, state: "SandboxState", object_id: str) -> bool:
        """Delete one of its published objects as its owner would in the app (`POST
        /_sandbox/deleted`); whether it had one by that id. Under the state lock."""
        return False

    def published(self, state: "SandboxState", base_url: str) -> tuple[dict[str, Any], dict]:
        """Its part of `/_sandbox/published`: (lists, summary counts); under the state lock."""
        return {}, {}

    def index_html(self, state: "SandboxState") -> str:
        """Its sections of the home page (under the state lock)."""
        return ""

    def view_html(self, state: "SandboxState", object_id: str) -> tuple[str, str] | None:
        """(title, body) of the permalink page of one of its objects, or None."""
        return None

    # --- hooks for networks built on Facebook Pages (Instagram business accounts) ----------------

    def page_added(self, state: "SandboxState", page: Any, number: int, options: dict) -> None:
        """A Page was added through `POST /_sandbox/pages` (`options`: that call's body)."""

    def describe_page(self, state: "SandboxState", page: Any) -> dict[str, Any]:
        """Extra keys of a Page in `/_sandbox/pages`."""
        return {}

    def page_columns(self) -> list[tuple[str, Callable[["SandboxState", Any], str]]]:
        """Extra columns of the home page's Page table: (header, cell text)."""
        return []


class Registry:
    """The networks of one mount, their node types, lookups, edges and routes combined."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)
        self.node_types: dict[str, NodeType] = {}
        self.extensions: dict[str, list[FieldTable]] = {}
        self.host_kinds = frozenset(k for n in self.networks for k in n.host_token_kinds)
        self.dialog_paths = frozenset(p for n in self.networks for p in n.dialog_paths)
        for network in self.networks:
            unknown = set(network.scopes) - set(SCOPE_BITS)
            unknown |= set(network.token_kinds) - set(KINDS)
            unknown |= set(network.host_token_kinds) - set(KINDS)
            if unknown:
                raise ValueError(
                    f"network {network.name!r} uses {sorted(unknown)}, which the token format "
                    "of sandbox/tokens.py does not know: add them there (append only)"
                )
            for node_type in network.node_types():
                if node_type.name in self.node_types:
                    raise ValueError(f"node type {node_type.name} registered twice")
                self.node_types[node_type.name] = node_type
        for network in self.networks:
            for name, table in network.field_extensions().items():
                self.extensions.setdefault(name, []).append(table)

    def field_table(self, node_type: str, renderer: "Renderer") -> dict[str, Resolver]:
        table = dict(self.node_types[node_type].fields(renderer))
        for extension in self.extensions.get(node_type, ()):
            table.update(extension(renderer))
        return table

    def edges(self, graph: "Graph") -> dict[EdgeKey, EdgeHandler]:
        out: dict[EdgeKey, EdgeHandler] = {}
        for network in self.networks:
            out.update(network.edges(graph))
        return out

    def routes(self, graph: "Graph") -> dict[str, RouteHandler]:
        out: dict[str, RouteHandler] = {}
        for network in self.networks:
            out.update(network.routes(graph))
        return out


@dataclass(frozen=True, slots=True)
class Mount:
    """Networks served together as one Graph host.

    `prefix` ("" or e.g. "/threads") is where the host's paths start on the sandbox's main port;
    `port`, when set, serves the host on a port of its own instead (at the root there), as a
    second address the product's settings can point at.
    """

    name: str
    label: str
    networks: tuple[Network, ...]
    prefix: str = ""
    port: int | None = None

    def __post_init__(self) -> None:
        if self.prefix and (not self.prefix.startswith("/") or self.prefix.endswith("/")):
            raise ValueError("a mount prefix looks like /threads (or is empty)")
        if self.prefix.startswith("/_sandbox"):
            raise ValueError("/_sandbox is the control API's")
