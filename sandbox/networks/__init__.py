"""The networks of the sandbox, one module each, and where they are served.

`DEFAULT_MOUNTS` is what `SandboxServer` serves unless told otherwise: the Facebook Graph API
and the Instagram Graph API (with Facebook Login) together at the root, as `graph.facebook.com`
serves them. A network with a host of its own (Threads, `graph.threads.net`; Instagram with
Instagram Login, `graph.instagram.com`) is another `Mount` with a prefix or a port. See
docs/sandbox.md ("How a network plugs in").
"""

from ..registry import Mount
from .facebook import FacebookNetwork
from .instagram import InstagramNetwork


def default_mounts() -> tuple[Mount, ...]:
    return (
        Mount(
            name="graph",
            label="Facebook Graph API + Instagram Graph API (graph.facebook.com)",
            networks=(FacebookNetwork(), InstagramNetwork()),
        ),
    )


__all__ = ["FacebookNetwork", "InstagramNetwork", "default_mounts"]
