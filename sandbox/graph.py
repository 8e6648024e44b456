"""The Graph API core: authentication of each call, routing to the networks' routes, nodes
and edges, `?ids=`, and the user of Facebook Login.

`Graph.handle(request, context)` answers one Graph call with a JSON-able body or raises a
`GraphError`. What the objects are, how they render and which edges they have is registered by
the networks of the mount (`registry.Network`); latency, faults, usage headers and the call log
are the server's business.
"""

import hmac
from collections.abc import Callable
from typing import Any

from . import errors
from .context import CallContext, Request, Viewer, bearer_token
from .errors import GraphError
from .fields import parse_fields
from .nodes import USER, Renderer
from .oauth import OAuth, token_problem
from .paging import Pager
from .registry import EdgeHandler, EdgeKey, NodeType, Registry
from .state import SandboxState
from .tokens import TokenParseError, appsecret_proof

# Kinds of presented tokens besides the TokenClaims kinds (for the log and the usage headers).
APP_TOKEN = "app"  # noqa: S105 - a label, not a secret
INVALID_TOKEN = "invalid"  # noqa: S105 - a label, not a secret


class Graph:
    """One Graph host: the networks of one mount over the sandbox's shared state."""

    def __init__(self, state: SandboxState, registry: Registry) -> None:
        self.state = state
        self.registry = registry
        self.oauth = OAuth(state)
        self.pager = Pager(state)
        if USER.name not in registry.node_types:
            registry.node_types[USER.name] = USER
        self.edges: dict[EdgeKey, EdgeHandler] = {
            ("User", "permissions", "GET"): self._permissions,
            ("User", "permissions", "DELETE"): self._revoke_permissions,
            **registry.edges(self),
        }
        self.routes = registry.routes(self)
        self._known_edges = {(n, e) for (n, e, _) in self.edges}
        # Tokens of another host (a Threads token here, a Facebook token at Threads) are not
        # this host's to read.
        self._foreign_kinds = frozenset(
            kind
            for network in state.networks
            if network not in registry.networks
            for kind in network.host_token_kinds
        )

    def accepts(self, kind: str) -> bool:
        """Whether a token of ``kind`` belongs to this host."""
        if self.registry.host_kinds:
            return kind in self.registry.host_kinds
        return kind not in self._foreign_kinds

    # --- entry point ----------------------------------------------------------------------------

    def handle(self, req: Request, ctx: CallContext) -> Any:
        segments = [s for s in req.path.split("/") if s]
        if not segments:
            ctx.template = "/"
            if req.method == "GET" and req.param("ids"):
                return self._ids(req, ctx, self.authenticate(req, ctx))
            raise errors.invalid_param("(#100) The sandbox does not emulate batch requests")
        route = self.routes.get("/" + "/".join(segments))
        if route is not None:
            ctx.template = "/" + "/".join(segments)
            return route(req, ctx)
        # A route registered as "/head/*" takes every path under /head (an upload host's
        # `/ig-api-upload/{version}/{id}`).
        route = self.routes.get(f"/{segments[0]}/*")
        if route is not None:
            ctx.template = f"/{segments[0]}/*"
            return route(req, ctx)
        head = segments[0]
        viewer = self.authenticate(req, ctx)
        node_type, record = self.lookup(head, viewer, req.method, ctx)
        ctx.template = "/me" if head == "me" else self.registry.node_types[node_type].template
        if len(segments) == 1:
            return self._node(req, ctx, node_type, record)
        if len(segments) > 2:
            raise errors.unknown_path("/" + "/".join(segments[2:]))
        edge = segments[1]
        ctx.template += f"/{edge}"
        return self._edge(req, ctx, viewer, node_type, record, edge)

    # --- authentication -------------------------------------------------------------------------

    def peek(self, req: Request, ctx: CallContext) -> str | None:
        """The token, noting its kind for the usage headers, without validating it."""
        token, from_header = bearer_token(req)
        if token is None:
            return None
        if self.state.signer.is_app_token(token):
            ctx.token_kind = APP_TOKEN
            ctx.viewer = Viewer(token, None, from_header)
            return token
        try:
            claims = self.state.signer.decode(token)
        except TokenParseError:
            ctx.token_kind = INVALID_TOKEN
            return token
        ctx.token_kind = claims.kind
        ctx.viewer = Viewer(token, claims, from_header)
        if claims.is_page and claims.page_id:
            ctx.touch(claims.page_id, "pages")
        return token

    def authenticate(self, req: Request, ctx: CallContext) -> Viewer:
        """The caller of a Graph call, or the error Meta gives for its token."""
        token = self.peek(req, ctx)
        if token is None:
            raise errors.token_required()
        viewer = ctx.viewer
        if viewer is None:
            raise errors.token_unparsable()
        if viewer.claims is not None:
            if not self.accepts(viewer.claims.kind):
                raise errors.token_unparsable()
            problem = token_problem(self.state, viewer.claims)
            if problem is not None:
                raise problem
            proof = req.param("appsecret_proof")
            if proof is not None:
                expected = appsecret_proof(token, self.state.config.app_secret)
                if not hmac.compare_digest(proof.lower(), expected):
                    raise errors.proof_invalid()
            elif self.state.config.appsecret_proof_required:
                raise errors.proof_required()
        return viewer

    # --- objects --------------------------------------------------------------------------------

    def lookup(
        self, object_id: str, viewer: Viewer, method: str, ctx: CallContext
    ) -> tuple[str, Any]:
        claims = viewer.claims
        state = self.state
        with state.lock:
            if object_id == "me":
                if claims is None:
                    raise GraphError(
                        "An active access token must be used to query information about the "
                        "current user.",
                        code=2500,
                    )
                for network in self.registry.networks:
                    found = network.me(state, claims)
                    if found is not None:
                        return found
                return "User", state.users[claims.user_id]
            is_own_user = claims is not None and claims.is_user and claims.user_id == object_id
            if object_id in state.users and is_own_user:
                return "User", state.users[object_id]
            for network in self.registry.networks:
                found = network.lookup(state, object_id, claims, ctx)
                if found is not None:
                    return found
        raise errors.unsupported(method, object_id)

    def renderer(self, req: Request, viewer: Viewer | None) -> Renderer:
        return Renderer(self.state, self.registry, viewer, req.base_url)

    def render_each(
        self, req: Request, viewer: Viewer, node_type: str
    ) -> Callable[[Any], dict[str, Any]]:
        """A renderer of `node_type` with the call's `fields`, for the items of a list."""
        specs = parse_fields(req.param("fields"))
        renderer = self.renderer(req, viewer)
        return lambda record: renderer.render(node_type, record, specs)

    def node_type(self, name: str) -> NodeType:
        return self.registry.node_types[name]

    def _node(self, req: Request, ctx: CallContext, node_type: str, record: Any) -> Any:
        if req.method != "GET":
            raise errors.unsupported(req.method, record.id)
        specs = parse_fields(req.param("fields"))
        with self.state.lock:
            return self.renderer(req, ctx.viewer).render(node_type, record, specs)

    def _ids(self, req: Request, ctx: CallContext, viewer: Viewer) -> Any:
        specs = parse_fields(req.param("fields"))
        out: dict[str, Any] = {}
        missing = []
        for object_id in (req.param("ids") or "").split(","):
            object_id = object_id.strip()
            if not object_id:
                continue
            try:
                node_type, record = self.lookup(object_id, viewer, "GET", ctx)
            except GraphError:
                missing.append(object_id)
                continue
            with self.state.lock:
                out[object_id] = self.renderer(req, viewer).render(node_type, record, specs)
        if missing:
            raise GraphError(
                f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}",
                code=803,
            )
        return out

    # --- edges ----------------------------------------------------------------------------------

    def _edge(
        self,
        req: Request,
        ctx: CallContext,
        viewer: Viewer,
        node_type: str,
        record: Any,
        edge: str,
    ) -> Any:
        method = req.method
        handler = self.edges.get((node_type, edge, method))
        if handler is None:
            if (node_type, edge) in self._known_edges or method != "GET":
                raise errors.unsupported(method, record.id)
            raise errors.nonexisting_field(edge, node_type)
        return handler(req, ctx, viewer, record)

    # --- the user's permissions (Facebook Login) --------------------------------------------------

    def _permissions(self, req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
        claims = viewer.claims
        scopes = claims.scopes if claims else ()
        return {"data": [{"permission": s, "status": "granted"} for s in scopes]}

    def _revoke_permissions(self, req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
        with self.state.lock:
            self.state.revoked_users[user.id] = {"at": self.state.now(), "subcode": 458}
            self.state.save()
        return {"success": True}
