"""The sandbox Graph API: a local, faithful stand-in for Facebook's Graph API, the Instagram
Graph API (with Facebook Login at the root, with Instagram Login at `/instagram`) and the Threads
API (at `/threads`): OAuth dialogs, tokens, Pages, publishing, containers, engagement, errors,
rate-limit headers, fault injection. Standard library only, and no Django: it runs on its own
(`python -m sandbox`) and inside test processes (`SandboxServer(port=0)`).

The core (server, routing, state, tokens, OAuth, errors, faults, paging, control API) knows no
network; each network is one module of `sandbox/networks/` registered through
`registry.Network` and served by a `registry.Mount`.

See docs/sandbox.md.
"""

from .networks import FacebookNetwork, InstagramNetwork, default_mounts
from .networks.facebook import BAKERY_PAGE_ID, BISTRO_PAGE_ID, CATERING_PAGE_ID, DEMO_BUSINESS_ID
from .networks.instagram import BISTRO_IG_ID, CATERING_IG_ID
from .networks.instagram_login import BISTRO_IG_LOGIN_ID
from .registry import Mount, Network, NodeType
from .server import SandboxApp, SandboxServer
from .state import DEMO_USER_ID, SandboxConfig, SandboxState
from .tokens import appsecret_proof

__all__ = [
    "BAKERY_PAGE_ID",
    "BISTRO_IG_ID",
    "BISTRO_IG_LOGIN_ID",
    "BISTRO_PAGE_ID",
    "CATERING_IG_ID",
    "CATERING_PAGE_ID",
    "DEMO_BUSINESS_ID",
    "DEMO_USER_ID",
    "FacebookNetwork",
    "InstagramNetwork",
    "Mount",
    "Network",
    "NodeType",
    "SandboxApp",
    "SandboxConfig",
    "SandboxServer",
    "SandboxState",
    "appsecret_proof",
    "default_mounts",
]
