"""Prometheus metrics at /metrics, the worker's exporter, the monitoring files in deploy/monitoring,
and the Sentry scrubbing (docs/operations.md, "Metrics and monitoring").

Process counters are global to the test process, so those tests compare a scrape before and after;
the database gauges are facts about the test's own rows and are compared exactly.
"""

import base64
import json
import os
import re
import socket
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sentry_sdk
import yaml
from django.test import Client
from django.utils import timezone
from model_bakery import baker
from prometheus_client.parser import text_string_to_metric_families

from apps.accounts.models import Tenant
from apps.accounts.tasks import invitation_cleanup
from apps.core.metrics.celery_signals import task_signals_connect, task_signals_disconnect
from apps.core.sentry import scrub_event
from apps.posts import publishing
from apps.posts.models import Publication
from apps.posts.services import PostInput, post_create, post_submit
from apps.social import graph, services
from apps.social.models import AccessToken, ConnectedAccount, TokenEvent
from config.celery import app as celery_app
from tests.conftest import ROOT, CeleryWorker, wait_until

DEMO_BISTRO_PAGE = "101000000000001"
DEMO_USER = "100000000000001"
MONITORING = ROOT / "deploy" / "monitoring"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(client: Client, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return parse(response.content.decode())


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(autouse=True)
def _fresh_database_gauges(settings):
    settings.METRICS_DATABASE_CACHE_SECONDS = 0
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW_ANONYMOUS = True  # as with DEBUG (`make run`); the tests below close it


@pytest.fixture
def page(tenant, owner, control) -> ConnectedAccount:
    """Demo Bistro's Page with a real sandbox Page token."""
    token = control("tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE})["access_token"]
    account = ConnectedAccount.objects.create(
        tenant=tenant,
        platform="facebook_page",
        platform_id=DEMO_BISTRO_PAGE,
        name="Demo Bistro",
        facebook_user_id=DEMO_USER,
    )
    AccessToken.objects.create(
        tenant=tenant, account=account, kind="page", facebook_user_id=DEMO_USER, token=token
    )
    return account


@pytest.fixture
def task_signals():
    task_signals_connect()
    yield
    task_signals_disconnect()


# --- Exercising the code paths (shared with the test of deploy/monitoring) ----------------------


def exercise_graph(control) -> str:
    """An ok call, a token error and a rate-limit error; returns the Page token used."""
    token = control("tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE})["access_token"]
    graph.get_instagram_account(page_id=DEMO_BISTRO_PAGE, page_token=token)
    with pytest.raises(graph.GraphTokenError):
        graph.get_me(user_token="not-a-token")
    control("faults", {"kind": "rate_limit", "code": 4, "match": "GET /me"})
    with pytest.raises(graph.GraphRateLimitError):
        graph.get_me(user_token=token)
    return token


def exercise_publishing(owner, page, control) -> tuple[Publication, Publication]:
    """Two publications of the Page, both due 2 minutes ago (``run_due_publications``: one goes
    out, Meta refuses the other)."""
    owner.tenant.requires_approval = False
    owner.tenant.save()

    def make(caption: str) -> Publication:
        post = post_create(actor=owner, data=PostInput(caption=caption, target_ids=[page.pk]))
        return post_submit(actor=owner, post=post).publications.get()

    first, second = make("Soup of the day"), make("Fish of the day")
    Publication.objects.filter(pk__in=[first.pk, second.pk]).update(
        next_attempt_at=timezone.now() - timedelta(minutes=2)
    )
    return first, second


def run_due_publications(control) -> None:
    control("faults", {"kind": "error", "match": "POST /*/feed", "code": 100, "times": 1})
    for claim in sorted(publishing.publications_claim_due(), key=lambda c: c.publication_id):
        publishing.publication_run(claim=claim)


def exercise_tokens(tenant, control) -> None:
    """One refresh that works and one that Facebook refuses; one check of each verdict."""
    good = AccessToken.objects.create(
        tenant=tenant,
        kind="user_long_lived",
        facebook_user_id=DEMO_USER,
        token=control("tokens", {"kind": "long"})["access_token"],
        expires_at=timezone.now() + timedelta(days=2),
    )
    bad = AccessToken.objects.create(
        tenant=tenant,
        kind="user_long_lived",
        facebook_user_id="100000000000999",
        token="revoked-long-ago",
        expires_at=timezone.now() + timedelta(days=2),
    )
    assert services.token_refresh(token=good) is True
    assert services.token_refresh(token=bad) is False
    assert services.token_check(token=good) is True
    assert services.token_check(token=bad) is False


# --- HTTP requests -------------------------------------------------------------------------------


def test_requests_are_counted_by_view_and_status(client, db):
    before = scrape(client)

    client.get("/healthz")
    client.get("/healthz")
    client.post("/healthz")  # 405
    client.get("/no-such-page/")

    after = scrape(client)
    by_status = "django_http_responses_total_by_status_view_method_total"
    assert delta(before, after, by_status, status="200", view="healthz", method="GET") == 2
    assert delta(before, after, by_status, status="405", view="healthz", method="POST") == 1
    assert delta(before, after, by_status, status="404", view="<unnamed view>", method="GET") == 1
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert delta(before, after, latency, view="healthz", method="GET") == 2


def test_metrics_token_is_required_when_set(client, db, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    anonymous = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})

    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert wrong.status_code == 401
    assert b"sa_" not in anonymous.content + wrong.content
    assert right.status_code == 200
    assert b"sa_publications_open" in right.content


def test_metrics_are_open_without_a_token_only_when_allowed(client, db, settings):
    assert client.get("/metrics").status_code == 200

    settings.METRICS_ALLOW_ANONYMOUS = False
    closed = client.get("/metrics")
    assert closed.status_code == 403
    assert b"METRICS_TOKEN" in closed.content
    assert b"sa_" not in closed.content


def test_metrics_are_closed_by_default_in_production():
    # A fresh process with production settings (DEBUG off) and no METRICS_TOKEN.
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.METRICS_TOKEN == '', settings.METRICS_ALLOW_ANONYMOUS)"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"METRICS_TOKEN", "METRICS_ALLOW_ANONYMOUS", "DJANGO_DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_ENV_FILE=str(ROOT / "no-such.env"),
        DJANGO_SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(b"k" * 32).decode(),
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["False", "True", "False"]


# --- Graph API -----------------------------------------------------------------------------------


def test_graph_calls_by_endpoint_template_error_class_and_duration(client, db, sandbox, control):
    before = scrape(client)

    token = exercise_graph(control)

    after = scrape(client)
    calls = "sa_graph_requests_total"
    assert delta(before, after, calls, method="GET", endpoint="/{id}", outcome="ok") == 1
    assert delta(before, after, calls, method="GET", endpoint="/me", outcome="GraphTokenError") == 1
    assert (
        delta(before, after, calls, method="GET", endpoint="/me", outcome="GraphRateLimitError")
        == 1
    )
    durations = "sa_graph_request_duration_seconds_count"
    assert delta(before, after, durations, method="GET", endpoint="/me") == 2
    assert value(after, "sa_graph_request_duration_seconds_sum", method="GET", endpoint="/{id}") > 0
    # The throttled answer's usage headers said 100 % or more.
    assert value(after, "sa_graph_rate_limit_usage_percent", header="app") >= 100
    # Templates only: no Page id, no token in any label.
    text = client.get("/metrics").content.decode()
    assert DEMO_BISTRO_PAGE not in text
    assert token not in text
    endpoints = {dict(labels)["endpoint"] for name, labels in after if name == calls}
    assert endpoints
    assert not any(ch.isdigit() for e in endpoints for ch in e)


# --- Publishing ----------------------------------------------------------------------------------


def test_publication_outcomes_and_due_lag(client, owner, page, sandbox, control):
    exercise_publishing(owner, page, control)
    before = scrape(client)

    assert value(before, "sa_publications_due") == 2
    assert 115 <= value(before, "sa_publication_due_lag_seconds") < 600
    assert value(before, "sa_publications_open", status="pending", platform="facebook_page") == 2

    run_due_publications(control)

    after = scrape(client)
    outcomes = "sa_publication_outcomes_total"
    labels = {"platform": "facebook_page"}
    assert delta(before, after, outcomes, **labels, status="published", outcome="published") == 1
    assert delta(before, after, outcomes, **labels, status="failed", outcome="fail") == 1
    assert value(after, "sa_publications_due") == 0
    assert value(after, "sa_publication_due_lag_seconds") == 0
    assert value(after, "sa_publications_open", status="pending", platform="facebook_page") == 0
    finished = "sa_publications_finished_last_day"
    assert value(after, finished, status="published", platform="facebook_page") == 1
    assert value(after, finished, status="failed", platform="facebook_page") == 1
    assert value(after, "sa_posts_created_last_day") == 2


def test_a_stale_claim_counts_as_due_from_when_its_lease_ran_out(client, owner, page, control):
    ok, _ = exercise_publishing(owner, page, control)
    lease = timedelta(seconds=600)  # PUBLISHING_CLAIM_LEASE_SECONDS
    Publication.objects.filter(pk=ok.pk).update(
        status="publishing",
        claim_token="gone",
        claimed_at=timezone.now() - lease - timedelta(minutes=5),
    )

    samples = scrape(client)

    assert value(samples, "sa_publications_stale_claims") == 1
    assert value(samples, "sa_publications_due") == 2
    assert 295 <= value(samples, "sa_publication_due_lag_seconds") < 900


# --- Accounts, tokens and the business ------------------------------------------------------------


def test_accounts_and_tokens_by_health(client, tenant, other_tenant):
    now = timezone.now()
    for status in ("active", "active", "needs_reauth", "disconnected"):
        baker.make(ConnectedAccount, tenant=tenant, platform="instagram_business", status=status)
    for n, (expires_at, last_error) in enumerate(
        [
            (now - timedelta(days=1), ""),  # expired
            (now + timedelta(days=3), ""),  # expiring
            (now + timedelta(days=50), "Error validating access token"),  # failing
            (now + timedelta(days=50), ""),  # ok
            (None, ""),  # ok: does not expire
        ]
    ):
        AccessToken.objects.create(
            tenant=tenant,
            kind="user_long_lived",
            facebook_user_id=str(n),
            token=f"t{n}",
            expires_at=expires_at,
            last_error=last_error,
        )

    samples = scrape(client)

    accounts = "sa_connected_accounts"
    assert value(samples, accounts, platform="instagram_business", status="active") == 2
    assert value(samples, accounts, platform="instagram_business", status="needs_reauth") == 1
    assert value(samples, accounts, platform="instagram_business", status="disconnected") == 1
    assert value(samples, accounts, platform="facebook_page", status="active") == 0
    health = {
        h: value(samples, "sa_access_tokens", kind="user_long_lived", health=h)
        for h in ("expired", "expiring", "failing", "ok")
    }
    assert health == {"expired": 1, "expiring": 1, "failing": 1, "ok": 2}
    assert value(samples, "sa_tenants", plan="basic") == Tenant.objects.filter(plan="basic").count()
    assert value(samples, "sa_tenants_created_last_day") == 2
    assert value(samples, "sa_accounts_connected_last_day", platform="instagram_business") == 4


def test_token_refresh_and_check_outcomes(client, tenant, sandbox, control):
    before = scrape(client)

    exercise_tokens(tenant, control)

    after = scrape(client)
    assert delta(before, after, "sa_token_refreshes_total", outcome="refreshed") == 1
    assert delta(before, after, "sa_token_refreshes_total", outcome="failed") == 1
    assert delta(before, after, "sa_token_checks_total", outcome="valid") == 1
    assert delta(before, after, "sa_token_checks_total", outcome="invalid") == 1
    # The same from the database, whichever process ran the job.
    assert value(after, "sa_token_events_last_day", kind="refreshed") == 1
    assert value(after, "sa_token_events_last_day", kind="refresh_failed") == 1
    assert TokenEvent.objects.filter(kind="refresh_failed").count() == 1


def test_database_gauges_are_cached_between_scrapes(client, tenant, settings):
    settings.METRICS_DATABASE_CACHE_SECONDS = 60
    first = value(scrape(client), "sa_tenants_created_last_day")
    baker.make(Tenant)

    assert value(scrape(client), "sa_tenants_created_last_day") == first
    settings.METRICS_DATABASE_CACHE_SECONDS = 0
    assert value(scrape(client), "sa_tenants_created_last_day") == first + 1


# --- Celery --------------------------------------------------------------------------------------


def test_task_outcomes_from_celery_signals_in_process(client, db, task_signals):
    before = scrape(client)

    invitation_cleanup.apply()

    after = scrape(client)
    name = "accounts.invitation_cleanup"
    assert delta(before, after, "sa_celery_tasks_total", task=name, outcome="succeeded") == 1
    assert delta(before, after, "sa_celery_task_duration_seconds_count", task=name) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_serves_its_task_outcomes_on_its_metrics_port(tmp_path):
    port = _free_port()
    queue = f"test-{uuid.uuid4().hex[:10]}"
    # A prefork-style set-up: the worker's processes add up through the multiprocess directory.
    worker = CeleryWorker(
        queue,
        CELERY_METRICS_PORT=str(port),
        CELERY_METRICS_ADDRESS="127.0.0.1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    ).start()
    try:
        invitation_cleanup.apply_async(queue=queue)
        invitation_cleanup.apply_async(queue=queue)
        # Wrong arguments: the task fails in the worker (apply_async would refuse them here).
        celery_app.send_task("accounts.invitation_cleanup", args=["unexpected"], queue=queue)

        def counts() -> tuple[float, float]:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                return (0, 0)
            samples = parse(text)
            task = {"task": "accounts.invitation_cleanup"}
            return (
                value(samples, "sa_celery_tasks_total", **task, outcome="succeeded"),
                value(samples, "sa_celery_tasks_total", **task, outcome="failed"),
            )

        assert wait_until(lambda: counts() == (2, 1), timeout=60), counts()
    finally:
        worker.stop()
    assert list((tmp_path / "prometheus").glob("counter_*.db"))


# --- deploy/monitoring ---------------------------------------------------------------------------

METRIC_NAME = re.compile(r"\b((?:sa|django)_[a-z0-9_]+)\b")


def _rule_expressions() -> list[str]:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def _dashboard_expressions() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def test_alert_rules_cover_what_operators_were_promised():
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}

    assert {
        "PublicationFailureRateHigh",
        "TokenRefreshFailureRateHigh",
        "DuePublicationsLagging",
        "GraphRateLimitUsageHigh",
        "Http5xxRateHigh",
    } <= names
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"]


def test_rules_and_dashboard_use_only_metrics_that_metrics_exposes(
    client, owner, page, sandbox, control, task_signals
):
    client.get("/healthz")
    exercise_graph(control)
    exercise_publishing(owner, page, control)
    run_due_publications(control)
    exercise_tokens(owner.tenant, control)
    invitation_cleanup.apply()

    exposed = {name for name, _ in scrape(client)}

    expressions = _rule_expressions() + _dashboard_expressions()
    referenced = {name for expr in expressions for name in METRIC_NAME.findall(expr)}
    assert len(_dashboard_expressions()) >= 20
    assert all(METRIC_NAME.search(expr) for expr in expressions), "an expression names no metric"
    assert referenced - exposed == set()


def test_the_dashboard_is_importable_grafana_json():
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())

    assert dashboard["uid"] == "social-automation"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


# --- Sentry --------------------------------------------------------------------------------------


def test_sentry_is_off_without_a_dsn():
    assert not sentry_sdk.get_client().is_active()


def test_sentry_events_lose_tokens_secrets_and_credentials():
    event = {
        "message": "Graph call failed: GET /me?access_token=EAAtoken1&fields=id",
        "request": {
            "url": "https://example.com/connections/callback",
            "query_string": "code=oauthcode2&state=fine-state",
            "headers": {"Authorization": "OAuth EAAtoken3", "User-Agent": "curl/8"},
            "cookies": {"sessionid": "session4"},
            "data": {"password": "hunter5", "caption": "Soup tonight"},
        },
        "exception": {
            "values": [
                {
                    "type": "GraphTokenError",
                    "value": "refused Bearer token6 (appsecret_proof=proof7)",
                }
            ]
        },
        "extra": {"page_token": "token8", "api_key": "sa_abc_key9", "tenant_id": 12},
        "breadcrumbs": {
            "values": [
                {"category": "httplib", "data": {"url": "/oauth?client_secret=secret10&x=1"}},
                {"category": "http", "data": {"headers": [["Authorization", "Api-Key key11"]]}},
            ]
        },
    }

    scrubbed = scrub_event(event, {})

    text = json.dumps(scrubbed)
    for secret in (
        "EAAtoken1",
        "oauthcode2",
        "EAAtoken3",
        "session4",
        "hunter5",
        "token6",
        "proof7",
        "token8",
        "key9",
        "secret10",
        "key11",
    ):
        assert secret not in text, secret
    # What helps debugging stays.
    assert "fine-state" in text
    assert "Soup tonight" in text
    assert "curl/8" in text
    assert scrubbed["extra"]["tenant_id"] == 12
    assert scrubbed["exception"]["values"][0]["type"] == "GraphTokenError"


def test_sentry_with_a_dsn_reports_through_the_scrubber():
    # A separate process: Sentry's Django and Celery integrations patch what they integrate with.
    code = """
import json, django, sentry_sdk
django.setup()
client = sentry_sdk.get_client()
sent = []
client.transport.capture_envelope = sent.append
try:
    raise RuntimeError("Graph said no to access_token=SECRETVALUE1 with OAuth SECRETVALUE2")
except RuntimeError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=5)
payload = b"".join(item.payload.get_bytes() for env in sent for item in env.items)
print(json.dumps({
    "active": client.is_active(),
    "pii": client.options["send_default_pii"],
    "locals": client.options["include_local_variables"],
    "integrations": sorted(client.integrations),
    "sent": len(sent),
    "leaked": b"SECRETVALUE" in payload,
    "kept": b"Graph said no" in payload,
}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "SENTRY_DSN": "http://public@127.0.0.1:9/1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["active"] is True
    assert report["pii"] is False
    assert report["locals"] is False
    assert {"django", "celery"} <= set(report["integrations"])
    assert report["sent"] >= 1
    assert report["kept"] is True
    assert report["leaked"] is False


def test_operations_doc_names_every_setting():
    text = (ROOT / "docs" / "operations.md").read_text()
    for setting in (
        "METRICS_TOKEN",
        "PROMETHEUS_MULTIPROC_DIR",
        "CELERY_METRICS_PORT",
        "METRICS_DATABASE_CACHE_SECONDS",
        "SENTRY_DSN",
    ):
        assert setting in text, setting
    assert Path(MONITORING / "alerts.yml").exists()
