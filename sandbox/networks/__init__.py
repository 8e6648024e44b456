"""The networks of the sandbox, one module each, and where they are served.

`default_mounts()` is what `SandboxServer` serves unless told otherwise: the Facebook Graph
API and the Instagram Graph API (with Facebook Login) together at the root, as
`graph.facebook.com` serves them; Threads (`graph.threads.net`) at `/threads`; and Instagram
API with Instagram Login (`graph.instagram.com`) at `/instagram`. A network with a host of its
own is another `Mount` with a prefix or a port. See docs/sandbox.md ("How a network plugs in").
"""

from ..registry import Mount
from ..video import rupload_mount
from .facebook import FacebookNetwork
from .facebook_video import FacebookVideoNetwork
from .instagram import InstagramNetwork
from .instagram_login import InstagramLoginNetwork, instagram_login_mount
from .threads import ThreadsNetwork, threads_mount


def default_mounts() -> tuple[Mount, ...]:
    return (
        Mount(
            name="graph",
            label="Facebook Graph API + Instagram Graph API (graph.facebook.com)",
            networks=(FacebookNetwork(), InstagramNetwork(), FacebookVideoNetwork()),
        ),
        # Threads (graph.threads.net) at /threads on the same port.
        threads_mount(),
        # Instagram with Instagram Login (graph.instagram.com) at /instagram; its accounts
        # live in the Instagram network's store, so it comes after the root mount.
        instagram_login_mount(),
        # The upload host (rupload.facebook.com) at /rupload: resumable video uploads.
        rupload_mount(),
    )


__all__ = [
    "FacebookNetwork",
    "FacebookVideoNetwork",
    "InstagramLoginNetwork",
    "InstagramNetwork",
    "ThreadsNetwork",
    "default_mounts",
    "instagram_login_mount",
    "threads_mount",
]
