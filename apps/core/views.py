"""The site's error handlers (400, 404, 500): problem+json for machines, pages for people."""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from apps.core.api.exceptions import TITLES, problem_json_response, request_refusal


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for the whole site: problem+json under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(404, "not_found", "There is no API endpoint at this address.")
    return page_not_found(request, exception or Http404())


# Machines call these (integrations, Meta's servers): they get problem documents, never a page.
PROBLEM_PATHS = ("/api/", "/facebook/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 for the whole site, outside DRF: Django's answer to a SuspiciousOperation, raised in
    a view or a middleware. A body over the limits (RequestDataTooBig, TooManyFieldsSent …) is a
    413 / 400 problem under PROBLEM_PATHS and a short page elsewhere (the dashboard's forms)."""
    status, code, detail = request_refusal(exception) or (
        400,
        "bad_request",
        "The request could not be understood.",
    )
    if request.path.startswith(PROBLEM_PATHS):
        return problem_json_response(status, code, detail)
    # No request context: nothing here may read the request again (its body is unreadable).
    page = render_to_string("400.html", {"title": TITLES[status], "detail": detail})
    return HttpResponse(page, status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 for the whole site: problem+json under /api/, the plain HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(
            500, "server_error", "Something went wrong on our side; it has been logged."
        )
    return django_server_error(request)


def _problem_response(status: int, code: str, detail: str) -> JsonResponse:
    # Outside DRF (no view matched, or the view crashed): the same document DRF's handler sends.
    return problem_json_response(status, code, detail)
