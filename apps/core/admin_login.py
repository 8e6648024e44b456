"""The Django admin's login goes through the site's own login page (django-allauth).

One login page means one set of protections: allauth's rate limits on failed logins (counted in
the shared cache), e-mail verification and the same session handling. The admin's own login form
has no throttling, so it is never served.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode


def admin_login(request: HttpRequest) -> HttpResponseRedirect:
    if request.user.is_authenticated:
        if request.user.is_staff:
            return HttpResponseRedirect(reverse("admin:index"))
        # Sending a signed-in non-staff user to the login page would bounce straight back here.
        raise PermissionDenied("The admin is for platform staff.")
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
