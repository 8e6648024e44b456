"""Tenant isolation, proven over every route the project has (SPEC 4).

The routes are discovered from the URLconf, so a route added later joins these tests without an
edit. Each route is either *public* (listed below with the reason) or a *dashboard* route, where:
- an anonymous visitor is sent to the login page, whatever the method;
- a signed-in owner of one tenant asking for another tenant's object gets 404, whatever the method.

Object kwargs are resolved by name: ``<model>_id`` (``membership_id`` → Membership,
``brand_folder_id`` → BrandFolder) or ``pk`` (the view's ``model`` / ``queryset``). A kwarg that
cannot be resolved fails the test: name it after its model.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from model_bakery import baker

from apps.accounts.models import Role, Tenant

# Route prefixes that are not tenant dashboard pages, and why.
PUBLIC_PREFIXES = {
    "accounts/": "django-allauth's sign-up, login and e-mail flows (public by nature)",
    "admin/": "the Django admin, which has its own staff login (tested below)",
    "favicon.ico": 'the site icon, for pages without a <link rel="icon"> (the admin)',
    "healthz": "liveness probe for orchestrators",
    "readyz": "readiness probe for orchestrators",
    "metrics": "Prometheus scrapes it without a session; METRICS_TOKEN guards it (test_metrics)",
    "invitations/": "the invitation link: its secret token, not a tenant id, is the key",
    "facebook/": "Meta's signed server-to-server callbacks and the public deletion status page",
    "m/": "signed, expiring media URLs that Meta fetches anonymously (tested in tests/assets)",
    "api/schema/": "the public OpenAPI document",
    "api/docs/": "the public Swagger UI",
    "api/v1/": "the REST API: key or session authentication; 401, not a login page (tested below)",
}


@dataclass(frozen=True)
class Route:
    name: str  # namespaced URL name, for reverse()
    route: str  # the pattern text, e.g. "team/members/<int:membership_id>/role/"
    kwargs: tuple[str, ...]
    callback: object

    @property
    def is_public(self) -> bool:
        return any(self.route.startswith(prefix) for prefix in PUBLIC_PREFIXES)


def _kwarg_names(pattern: object) -> list[str]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return list(converters)
    regex = getattr(pattern, "regex", None)
    return list(regex.groupindex) if regex is not None else []


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = "", kwargs: tuple[str, ...] = ()
) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        names = kwargs + tuple(_kwarg_names(entry.pattern))
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, text, ns, names)
        elif isinstance(entry, URLPattern):
            yield Route(
                f"{namespace}{entry.name}" if entry.name else "", text, names, entry.callback
            )


ROUTES = list(_walk(get_resolver()))
DASHBOARD_ROUTES = [r for r in ROUTES if not r.is_public]


def test_every_dashboard_route_is_named():
    unnamed = [r.route for r in DASHBOARD_ROUTES if not r.name]
    assert not unnamed, f"name these routes so the isolation tests can reverse them: {unnamed}"


def test_the_walk_finds_the_routes():
    # Guards the walker itself: if it found nothing, the tests below would prove nothing.
    names = {r.name for r in DASHBOARD_ROUTES}
    assert {"dashboard:overview", "team:list", "team:remove", "tenants:switch"} <= names


def _model_for(route: Route, kwarg: str) -> type[models.Model]:
    if kwarg == "pk":
        view = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
        model = getattr(view, "model", None) or getattr(
            getattr(view, "queryset", None), "model", None
        )
        if model is not None:
            return model
    elif kwarg.endswith("_id"):
        wanted = kwarg.removesuffix("_id").replace("_", "")
        for model in apps.get_models():
            if model._meta.model_name == wanted:
                return model
    raise AssertionError(f"{route.route}: cannot tell which model the kwarg {kwarg!r} refers to")


def _object_of(model: type[models.Model], tenant: Tenant) -> models.Model:
    if model is Tenant:
        return tenant
    field_names = {f.name for f in model._meta.get_fields()}
    assert "tenant" in field_names, (
        f"{model.__name__} is reached by id from a URL but has no tenant"
    )
    return baker.make(model, tenant=tenant)


def _url_with_objects_of(route: Route, tenant: Tenant) -> str:
    kwargs = {k: _object_of(_model_for(route, k), tenant).pk for k in route.kwargs}
    return reverse(route.name, kwargs=kwargs)


def _url_with_any_ids(route: Route) -> str:
    return reverse(route.name, kwargs=dict.fromkeys(route.kwargs, 999999))


@pytest.mark.parametrize("route", DASHBOARD_ROUTES, ids=lambda r: r.name or r.route)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_login(client: Client, db, route: Route, method: str):
    response = getattr(client, method)(_url_with_any_ids(route))

    assert response.status_code == 302, (
        f"{method.upper()} {route.route} answered {response.status_code}"
    )
    assert response["Location"].startswith(reverse("account_login"))


OBJECT_ROUTES = [r for r in DASHBOARD_ROUTES if r.kwargs]


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
def test_another_tenants_objects_answer_404(client_for, owner, other_tenant, route: Route):
    # The strongest role, so that only the tenant boundary can be what refuses.
    assert owner.role == Role.OWNER
    url = _url_with_objects_of(route, other_tenant)
    client = client_for(owner.user)

    statuses = {method: getattr(client, method)(url).status_code for method in ("get", "post")}

    # A method the route does not take answers 405 whatever the id; every other answer is 404.
    assert set(statuses.values()) <= {404, 405}, f"{url}: {statuses}"
    assert 404 in statuses.values(), f"{url}: {statuses}"


API_ROUTES = [r for r in ROUTES if r.route.startswith("api/v1/") and r.name]


def test_the_walk_finds_the_api_routes():
    assert {"api:me", "api:account-list", "api:account-detail"} <= {r.name for r in API_ROUTES}


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_api_routes_answer_401_without_credentials(client: Client, db, route: Route, method: str):
    response = getattr(client, method)(_url_with_any_ids(route))

    assert response.status_code == 401, f"{method.upper()} {route.route}: {response.status_code}"
    assert response["Content-Type"] == "application/problem+json"


API_OBJECT_ROUTES = [r for r in API_ROUTES if r.kwargs]


def test_the_walk_finds_the_resumable_upload_routes():
    # An upload session is reached by id on the dashboard and over the API (issue 15).
    assert {"assets:upload_session", "assets:upload_complete"} <= {r.name for r in OBJECT_ROUTES}
    assert {"api:asset-upload-detail", "api:asset-upload-complete"} <= {
        r.name for r in API_OBJECT_ROUTES
    }


@pytest.mark.parametrize("route", API_OBJECT_ROUTES, ids=lambda r: r.name)
def test_api_routes_answer_404_for_another_tenants_objects(owner, other_tenant, route: Route):
    from apps.accounts.services import api_key_create

    key = api_key_create(actor=owner, name="isolation", scopes=["write"]).key
    url = _url_with_objects_of(route, other_tenant)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")

    statuses = {
        m: getattr(client, m)(url).status_code for m in ("get", "put", "patch", "delete", "post")
    }

    assert set(statuses.values()) <= {404, 405}, f"{url}: {statuses}"
    assert 404 in statuses.values(), f"{url}: {statuses}"


def test_admin_sends_non_staff_to_its_login(client_for, owner):
    response = client_for(owner.user).get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
