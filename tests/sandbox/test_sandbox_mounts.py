"""A network plugs in without touching the others: a small test network ("notes") registered
through `sandbox.Network` and served under a path prefix or on a port of its own, beside the
Facebook and Instagram networks, which answer exactly as before."""

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, cast

import httpx
import pytest

from sandbox import BISTRO_PAGE_ID, Mount, Network, NodeType, SandboxServer, default_mounts
from sandbox.context import CallContext, Request, Viewer
from sandbox.graph import Graph
from sandbox.registry import EdgeHandler, EdgeKey, Found, Registry, RouteHandler
from sandbox.state import SandboxState
from sandbox.tokens import TokenClaims


@dataclass
class Note:
    id: str
    text: str


class NotesStore:
    def clear(self) -> None:
        self.notes: dict[str, Note] = {}

    def snapshot(self) -> dict[str, Any]:
        return {"notes": [asdict(n) for n in self.notes.values()]}

    def load(self, data: dict[str, Any]) -> None:
        self.notes = {raw["id"]: Note(**raw) for raw in data.get("notes", [])}


def _notes(state: SandboxState) -> NotesStore:
    return cast(NotesStore, state.stores["notes"])


class NotesNetwork(Network):
    name = "notes"
    label = "Notes (a network of the tests)"
    scopes = ("public_profile",)

    def create_store(self, state: SandboxState) -> NotesStore:
        return NotesStore()

    def node_types(self) -> Iterable[NodeType]:
        fields = {"id": lambda n, s: n.id, "text": lambda n, s: n.text}
        return [NodeType("Note", "/{note-id}", ("id", "text"), lambda renderer: fields)]

    def lookup(
        self, state: SandboxState, object_id: str, claims: TokenClaims | None, ctx: CallContext
    ) -> Found | None:
        note = _notes(state).notes.get(object_id)
        return ("Note", note) if note and claims else None

    def routes(self, graph: Graph) -> dict[str, RouteHandler]:
        return {"/ping": lambda req, ctx: {"pong": True}}

    def edges(self, graph: Graph) -> dict[EdgeKey, EdgeHandler]:
        state = graph.state

        def create(req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
            with state.lock:
                note = Note(str(900_000 + state.next_number()), req.param("text") or "")
                _notes(state).notes[note.id] = note
            return {"id": note.id}

        def listing(req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
            items = sorted(_notes(state).notes.values(), key=lambda n: n.id, reverse=True)
            return graph.pager.paginate(req, items, graph.render_each(req, viewer, "Note"))

        return {("User", "notes", "POST"): create, ("User", "notes", "GET"): listing}

    def control(self) -> dict[str, Any]:
        return {"notes": lambda state, method, parts, body: {"count": len(_notes(state).notes)}}

    def published(self, state: SandboxState, base_url: str) -> tuple[dict[str, Any], dict]:
        notes = [asdict(n) for n in _notes(state).notes.values()]
        return {"notes": notes}, {"notes": len(notes)}


def _serve(mount: Mount) -> SandboxServer:
    return SandboxServer(port=0, mounts=(*default_mounts(), mount), appsecret_proof_required=False)


@pytest.fixture
def prefixed() -> Iterator[SandboxServer]:
    with _serve(Mount("notes", "Notes", (NotesNetwork(),), prefix="/notes")) as server:
        yield server


def _token(server: SandboxServer, **body: Any) -> str:
    answer = httpx.post(f"{server.base_url}/_sandbox/tokens", json=body or {"kind": "long"})
    return str(answer.json()["access_token"])


def test_a_network_under_a_prefix_has_its_routes_nodes_edges_and_paging(
    prefixed: SandboxServer,
) -> None:
    notes = f"{prefixed.base_url}/notes/v1.0"
    token = {"access_token": _token(prefixed)}

    assert httpx.get(f"{notes}/ping").json() == {"pong": True}
    ids = [
        httpx.post(f"{notes}/me/notes", data={**token, "text": f"note {i}"}).json()["id"]
        for i in range(3)
    ]
    assert httpx.get(f"{notes}/{ids[0]}", params=token).json() == {"id": ids[0], "text": "note 0"}
    first = httpx.get(f"{notes}/me/notes", params={**token, "limit": 2}).json()
    assert [n["id"] for n in first["data"]] == [ids[2], ids[1]]
    assert first["paging"]["next"].startswith(f"{notes}/me/notes?")
    rest = httpx.get(first["paging"]["next"]).json()
    assert [n["id"] for n in rest["data"]] == [ids[0]]
    assert prefixed.mount_urls["notes"] == f"{prefixed.base_url}/notes"


def test_the_other_networks_neither_see_nor_are_changed_by_it(prefixed: SandboxServer) -> None:
    root = f"{prefixed.base_url}/v25.0"
    notes = f"{prefixed.base_url}/notes/v1.0"
    token = {"access_token": _token(prefixed)}
    note_id = httpx.post(f"{notes}/me/notes", data={**token, "text": "hi"}).json()["id"]

    # The Graph API of Facebook and Instagram as before, at the root.
    accounts = httpx.get(f"{root}/me/accounts", params=token).json()["data"]
    assert BISTRO_PAGE_ID in [a["id"] for a in accounts]
    assert httpx.get(f"{root}/{note_id}", params=token).json()["error"]["error_subcode"] == 33
    assert httpx.get(f"{root}/ping").json()["error"]["code"] == 104
    # ... and the Facebook edges are not the notes host's.
    missing = httpx.get(f"{notes}/me/accounts", params=token).json()["error"]["message"]
    assert "nonexisting field (accounts)" in missing
    # The control API and the read-out are shared; reset clears every network's store.
    assert httpx.get(f"{prefixed.base_url}/_sandbox/notes").json() == {"count": 1}
    published = httpx.get(f"{prefixed.base_url}/_sandbox/published").json()
    assert published["notes"] == [{"id": note_id, "text": "hi"}]
    assert published["summary"]["notes"] == 1
    assert published["summary"]["page_posts"] == 0
    calls = httpx.get(f"{prefixed.base_url}/_sandbox/calls").json()["calls"]
    assert "/me/notes" in {c["template"] for c in calls}
    httpx.post(f"{prefixed.base_url}/_sandbox/reset").raise_for_status()
    assert httpx.get(f"{prefixed.base_url}/_sandbox/notes").json() == {"count": 0}


def test_a_network_on_a_port_of_its_own() -> None:
    with _serve(Mount("notes", "Notes", (NotesNetwork(),), port=0)) as server:
        url = server.mount_urls["notes"]

        assert url != server.base_url
        assert httpx.get(f"{url}/v1.0/ping").json() == {"pong": True}
        assert httpx.get(f"{url}/ping").json() == {"pong": True}
        # The main port does not serve it; both share one control API.
        assert httpx.get(f"{server.base_url}/ping").json()["error"]["code"] == 104
        assert httpx.get(f"{url}/_sandbox/notes").json() == {"count": 0}
        assert "SANDBOX" in httpx.get(f"{server.base_url}/").text

    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/ping", timeout=2)


def test_the_registry_refuses_a_network_the_token_format_cannot_carry() -> None:
    class Unknown(Network):
        name = "unknown"
        scopes = ("myspace_basic",)

    with pytest.raises(ValueError, match="myspace_basic"):
        Registry([Unknown()])
    with pytest.raises(ValueError, match="prefix"):
        Mount("bad", "Bad", (), prefix="threads/")
