"""The sandbox Graph API: a local, faithful stand-in for Facebook's Graph API and the Instagram
Graph API (OAuth dialog, tokens, Pages, publishing, containers, engagement, errors, rate-limit
headers, fault injection). Standard library only, and no Django: it runs on its own
(`python -m sandbox`) and inside test processes (`SandboxServer(port=0)`).

See docs/sandbox.md.
"""

from .server import SandboxApp, SandboxServer
from .state import (
    BAKERY_PAGE_ID,
    BISTRO_IG_ID,
    BISTRO_PAGE_ID,
    CATERING_IG_ID,
    CATERING_PAGE_ID,
    DEMO_BUSINESS_ID,
    DEMO_USER_ID,
    SandboxConfig,
    SandboxState,
)
from .tokens import appsecret_proof

__all__ = [
    "BAKERY_PAGE_ID",
    "BISTRO_IG_ID",
    "BISTRO_PAGE_ID",
    "CATERING_IG_ID",
    "CATERING_PAGE_ID",
    "DEMO_BUSINESS_ID",
    "DEMO_USER_ID",
    "SandboxApp",
    "SandboxConfig",
    "SandboxServer",
    "SandboxState",
    "appsecret_proof",
]
