"""The OpenAPI document lists every operation of the API, with the problem responses."""

import yaml

PATHS = {
    "/api/v1/folders/": {"get", "post"},
    "/api/v1/folders/{id}/": {"get", "patch", "delete"},
    "/api/v1/assets/": {"get", "post"},
    "/api/v1/assets/{id}/": {"get", "patch", "delete"},
    "/api/v1/posts/": {"get", "post"},
    "/api/v1/posts/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/posts/{id}/submit/": {"post"},
    "/api/v1/posts/{id}/cancel/": {"post"},
    "/api/v1/posts/{id}/schedule/": {"post"},
    "/api/v1/publications/": {"get"},
    "/api/v1/publications/{id}/": {"get"},
    "/api/v1/publications/{id}/retry/": {"post"},
}


def test_the_schema_lists_every_operation_with_problems(client, db):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert document["openapi"].startswith("3.")
    for path, methods in PATHS.items():
        assert path in document["paths"], path
        operations = document["paths"][path]
        assert methods <= set(operations), (path, set(operations))
        for method in methods:
            operation = operations[method]
            assert operation.get("summary"), (path, method)
            unauthorized = operation["responses"]["401"]["content"]
            assert "application/problem+json" in unauthorized
    assert "Problem" in document["components"]["schemas"]
    upload = document["paths"]["/api/v1/assets/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"200", "201", "400"} <= set(upload["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in upload["parameters"])


def test_the_schema_is_served_as_yaml_and_the_docs_render(client, db):
    document = yaml.safe_load(client.get("/api/schema/").content)
    assert "/api/v1/posts/{id}/submit/" in document["paths"]

    assert client.get("/api/docs/").status_code == 200
