"""The OpenAPI schema is accurate: schemathesis generates requests from the schema itself and
checks that no answer is a 5xx, that every answer matches the schema, and that input the schema
refuses is refused (SPEC 8; issue 13).

Two tests, bounded so that ``make test`` stays quick (docs/BENCHMARKS.md has the timings):

- every operation on its own, in schemathesis's three phases for pytest: **examples** (the
  schema's), **coverage** (boundaries and each constraint broken on purpose: types, enums,
  lengths, missing fields) and **fuzzing** (random valid and invalid input);
- **stateful**: sequences that follow the schema's OpenAPI links (each create links to the
  operations on what it made, apps/core/api/schema.py; schemathesis infers more from the
  responses), so a post, a folder or a webhook endpoint is created, read, changed, submitted or
  rotated and deleted with real ids rather than random ones that are all 404.
"""

from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from apps.accounts.services import api_key_create

# Every check is on, "schema-violating input must be refused" (negative_data_rejection)
# included: unknown query parameters are still ignored, and schemathesis does not count a request
# that only adds some as negative. Deterministic, so that a failure is the same on every run.
#
# Health checks are off in the config too: schemathesis lets @settings override its config only
# where it differs from Hypothesis's "default" profile, which tests/fuzz/conftest.py re-registers
# with the same suppressions: in a run with tests/fuzz the config's empty list won, and the
# function-scoped fixtures (the database) failed every operation's test.
CONFIG = SchemathesisConfig.from_dict(
    {
        "suppress-health-check": ["all"],
        "generation": {"deterministic": True, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True},
        },
    }
)
# A resumable upload's chunk (PATCH /asset-uploads/{id}/) is raw bytes, sent as tus sends them.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)


def form_text_is_text(case) -> bool:
    """A multipart form holds text: schemathesis sends an object or a number generated for a
    string field (the upload's ``alt_text``, ``tags``) as its JSON text, a valid string on the
    wire, so "negative" data the server cannot tell apart. Such cases are skipped; the others,
    an unknown form field included, are checked."""
    if not (case.media_type or "").startswith("multipart/") or not isinstance(case.body, dict):
        return True
    properties = case.operation.body[0].definition.get("schema", {}).get("properties", {})
    texts = [n for n, p in properties.items() if p.get("type") == "string" and "format" not in p]
    return all(isinstance(case.body.get(name, ""), str) for name in texts)


# Per operation in the fuzzing phase (examples and coverage are as many as they need).
FUZZ_EXAMPLES = 50
# Stateful: scenarios of at most this many calls.
STATEFUL_SCENARIOS = 80
STATEFUL_STEPS = 10


@pytest.fixture
def in_test_transaction():
    """Calls go through the real WSGI handler, which closes the database connection after each
    request; inside a test's transaction it must not (Django's test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(owner, settings, in_test_transaction):
    settings.API_THROTTLE_RATES = dict.fromkeys(("basic", "pro", "enterprise"), "100000/hour")
    key = api_key_create(actor=owner, name="schemathesis", scopes=["write"]).key
    return {"Authorization": f"Api-Key {key}"}


def excluded_checks(method: str) -> list:
    # For writes, "schema-valid input must be accepted" is off: a taken folder name, another
    # tenant's id, an image the pipeline refuses are valid JSON that business rules refuse.
    return [] if method == "GET" else [positive_data_acceptance]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_conforms_to_the_schema(case, auth_headers):
    if not form_text_is_text(case):
        return
    case.call_and_validate(headers=auth_headers, excluded_checks=excluded_checks(case.method))


@pytest.mark.django_db
def test_sequences_of_calls_conform_to_the_schema(auth_headers, tenant):
    """Create → read → update → delete (and the actions between) with the ids just created."""
    statuses: Counter[tuple[str, int]] = Counter()

    # A schema of its own: schemathesis learns links from the answers it sees, so the one the
    # per-operation test used would make these sequences depend on which of its cases ran in
    # this process (with pytest-xdist, a share of them).
    fresh = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)

    class Workflow(fresh.as_state_machine()):  # type: ignore[misc]
        # Each scenario starts from the same database (a savepoint rolled back after it), so
        # that Hypothesis can replay one and get the same answers.
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": auth_headers}

        def after_call(self, response, case):
            statuses[(f"{case.method} {case.operation.path}", response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            if not form_text_is_text(case):  # as in the test above: not negative on the wire
                return
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=excluded_checks(case.method),
                headers=auth_headers,  # the key is ours, not generated (the auth checks)
                transport_kwargs=kwargs or None,
            )

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )

    # The sequences reached what the creates made: some call on an id they answered succeeded.
    reached = {op for (op, status), n in statuses.items() if "{id}" in op and status < 300}
    for resource in ("posts", "folders", "webhook-endpoints"):
        assert any(f"/api/v1/{resource}/{{id}}/" in op for op in reached), (resource, statuses)


def test_the_schema_is_served_and_the_docs_render(client, db):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/me/" in document["paths"]
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"swagger-ui" in page.content


def test_each_create_links_to_the_operations_on_what_it_made(client, db):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    links = document["paths"]["/api/v1/posts/"]["post"]["responses"]["201"]["links"]

    assert links["v1_posts_retrieve"] == {
        "operationId": "v1_posts_retrieve",
        "parameters": {"id": "$response.body#/id"},
    }
    assert {"v1_posts_partial_update", "v1_posts_destroy", "v1_posts_submit_create"} <= set(links)
    for collection in ("/api/v1/folders/", "/api/v1/webhook-endpoints/"):
        created = document["paths"][collection]["post"]["responses"]["201"]
        assert any(name.endswith("_destroy") for name in created["links"])
