from django.conf import settings
from django.http import HttpRequest


def facebook(request: HttpRequest) -> dict[str, bool]:
    """Pages label the sandbox Graph API clearly wherever Facebook is involved."""
    return {"facebook_sandbox": settings.FACEBOOK_SANDBOX}
