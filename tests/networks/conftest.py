"""The posts fixtures (Demo Bistro's accounts with real sandbox tokens, files in a temporary
directory) for the network contract."""

from tests.posts.conftest import accounts, media_root, no_media_fetch  # noqa: F401
