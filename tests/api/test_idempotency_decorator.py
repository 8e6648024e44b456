"""``@idempotent`` is the one mechanism behind the Idempotency-Key (issue 14): every operation
that documents the header is a view method wearing the decorator, every decorated method
documents it, and every create of the API is decorated."""

import re

import pytest
from django.urls import resolve

from apps.core.api import idempotency
from apps.core.api.idempotency import idempotency_of

pytestmark = pytest.mark.django_db


def _operations(client):
    """(path, method, view method, documents the header) for every /api/v1/ operation."""
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        match = resolve(re.sub(r"\{[^}]+\}", "1", path))
        view_class = match.func.cls  # type: ignore[attr-defined]
        actions = getattr(match.func, "actions", None) or {}
        for method, operation in operations.items():
            name = actions.get(method, method)
            documented = any(
                p["in"] == "header" and p["name"] == idempotency.HEADER
                for p in operation.get("parameters", [])
            )
            yield path, method, name, getattr(view_class, name), documented


def test_every_operation_documenting_the_key_uses_the_decorator_and_back(client):
    seen = list(_operations(client))

    assert seen
    for path, method, _name, view_method, documented in seen:
        assert documented == (idempotency_of(view_method) is not None), (path, method)


def test_every_create_of_the_api_is_idempotent(client):
    creates = [(path, view) for path, _m, name, view, _d in _operations(client) if name == "create"]

    assert {path for path, _ in creates} >= {
        "/api/v1/folders/",
        "/api/v1/assets/",
        "/api/v1/posts/",
        "/api/v1/webhook-endpoints/",
    }
    for path, view in creates:
        assert idempotency_of(view) is not None, path


def test_only_the_webhook_endpoint_create_withholds_a_field(client):
    withheld = {
        path: dict(found.shown_once_fields)
        for path, _m, _n, view, _d in _operations(client)
        if (found := idempotency_of(view)) is not None and found.shown_once_fields
    }

    assert list(withheld) == ["/api/v1/webhook-endpoints/"]
    assert list(withheld["/api/v1/webhook-endpoints/"]) == ["secret"]


def test_the_mixin_is_gone():
    assert not hasattr(idempotency, "IdempotentCreateMixin")
