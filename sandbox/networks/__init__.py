"""The networks of the sandbox, one module each, and where they are served.

`default_mounts()` is what `SandboxServer` serves unless told otherwise: the Facebook Graph
API and the Instagram Graph API (with Facebook Login) together at the root, as
`graph.facebook.com` serves them, and Threads (`graph.threads.net`) at `/threads`. A network
with a host of its own (Threads; Instagram with Instagram Login, `graph.instagram.com`) is
another `Mount` with a prefix or a port. See
docs/sandbox.md ("How a network plugs in").
"""

from ..registry import Mount
from .facebook import FacebookNetwork
from .instagram import InstagramNetwork
from .threads import ThreadsNetwork, threads_mount


def default_mounts() -> tuple[Mount, ...]:
    return (
        Mount(
            name="graph",
            label="Facebook Graph API + Instagram Graph API (graph.facebook.com)",
            networks=(FacebookNetwork(), InstagramNetwork()),
        ),
        # Threads (graph.threads.net) at /threads on the same port.
        threads_mount(),
    )


__all__ = [
    "FacebookNetwork",
    "InstagramNetwork",
    "ThreadsNetwork",
    "default_mounts",
    "threads_mount",
]
