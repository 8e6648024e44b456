"""The Dockerfile, docker-compose.yml and deploy/k8s/, checked statically (the development
machines have no Docker engine or cluster): they parse, the probes hit /healthz and /readyz,
every variable they set is one the settings read, one image everywhere, one beat, non-root."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
IMAGE = "social-automation"
CONFIG = "social-automation"  # the ConfigMap and the Secret
# Read by something other than config/settings.py.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "WEB_CONCURRENCY"}


def _settings_env_names() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def _k8s_documents() -> dict[str, list[dict[str, Any]]]:
    return {
        path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        for path in sorted(K8S.glob("*.yaml"))
    }


def _k8s_kind(kind: str) -> list[dict[str, Any]]:
    return [d for docs in _k8s_documents().values() for d in docs if d.get("kind") == kind]


def _workload(component: str) -> dict[str, Any]:
    (found,) = [
        d
        for d in _k8s_kind("Deployment") + _k8s_kind("Job")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    return found


def _pod_specs() -> list[dict[str, Any]]:
    return [w["spec"]["template"]["spec"] for w in _k8s_kind("Deployment") + _k8s_kind("Job")]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_manifest_parses_and_the_kustomization_lists_them() -> None:
    documents = _k8s_documents()
    kustomization = documents.pop("kustomization.yaml")[0]
    resources = set(kustomization["resources"])

    assert all(docs for docs in documents.values())
    assert all(
        doc["apiVersion"] and doc["metadata"]["name"] for d in documents.values() for doc in d
    )
    # Everything but the examples and the optional Ingress is applied.
    assert resources == set(documents) - {"secret.example.yaml", "ingress.yaml"}
    assert "ingress.yaml" in (K8S / "kustomization.yaml").read_text()
    # Namespace-agnostic: chosen with -n or an overlay.
    assert all("namespace" not in doc["metadata"] for d in documents.values() for doc in d)


def test_no_secret_is_committed() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    applied = [d for name in kustomization["resources"] for d in _k8s_documents()[name]]
    (example,) = _k8s_documents()["secret.example.yaml"]

    assert not [d for d in applied if d["kind"] == "Secret"]
    assert "secretGenerator" not in kustomization
    assert all("change-me" in value for value in example["stringData"].values())


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")
def test_kustomize_renders() -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    rendered = list(yaml.safe_load_all(result.stdout))
    assert {d["kind"] for d in rendered} >= {"Deployment", "Job", "Service", "ConfigMap"}


def test_web_probes_hit_healthz_and_readyz_with_an_allowed_host() -> None:
    (container,) = _workload("web")["spec"]["template"]["spec"]["containers"]
    (configmap,) = _k8s_kind("ConfigMap")
    allowed_hosts = configmap["data"]["DJANGO_ALLOWED_HOSTS"].split(",")

    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        (header,) = container[probe]["httpGet"]["httpHeaders"]
        assert header == {"name": "Host", "value": "localhost"}
    assert "localhost" in allowed_hosts


def test_workers_have_a_liveness_probe() -> None:
    (container,) = _workload("worker")["spec"]["template"]["spec"]["containers"]

    assert "inspect ping" in " ".join(container["livenessProbe"]["exec"]["command"])


def test_one_image_everywhere() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    k8s_images = {c["image"] for spec in _pod_specs() for c in spec["containers"]}
    compose_images = {
        s["image"] for s in _compose()["services"].values() if "postgres" not in s["image"]
    } - {"redis:7"}

    assert k8s_images == {IMAGE}
    assert [i["name"] for i in kustomization["images"]] == [IMAGE]
    assert compose_images == {f"{IMAGE}:latest"}


def test_beat_is_a_single_replica_never_two_at_once() -> None:
    beat = _workload("beat")
    compose_beat = _compose()["services"]["beat"]

    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert compose_beat["deploy"]["replicas"] == 1


def test_containers_run_as_non_root_with_a_read_only_root() -> None:
    for spec in _pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"]["drop"] == ["ALL"]
            assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}  # noqa: S108
            assert container["resources"]["requests"]["cpu"]
            assert container["resources"]["limits"]["memory"]


def test_settings_come_from_the_configmap_and_the_secret() -> None:
    for spec in _pod_specs():
        for container in spec["containers"]:
            refs = {next(iter(r)): r[next(iter(r))]["name"] for r in container["envFrom"]}
            assert refs == {"configMapRef": CONFIG, "secretRef": CONFIG}
    (configmap,) = _k8s_kind("ConfigMap")
    assert configmap["metadata"]["name"] == CONFIG


def test_every_variable_set_is_one_the_settings_read() -> None:
    known = _settings_env_names() | NOT_SETTINGS
    (configmap,) = _k8s_kind("ConfigMap")
    (secret,) = _k8s_documents()["secret.example.yaml"]
    secret_keys = set(secret["stringData"]) | set(
        re.findall(r"^\s*#\s*([A-Z][A-Z0-9_]+):", (K8S / "secret.example.yaml").read_text(), re.M)
    )
    container_env = {
        e["name"] for spec in _pod_specs() for c in spec["containers"] for e in c.get("env", [])
    }
    compose_env = set(_compose()["x-app"]["environment"])

    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEY"} <= _settings_env_names()
    assert set(configmap["data"]) - known == set()
    assert secret_keys - known == set()
    assert container_env - known == set()
    assert compose_env - known == set()


def test_web_keeps_serving_through_disruptions() -> None:
    (pdb,) = _k8s_kind("PodDisruptionBudget")
    web = _workload("web")

    assert pdb["spec"]["selector"]["matchLabels"] == web["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["minAvailable"] < web["spec"]["replicas"]
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_migration_job_migrates() -> None:
    job = _workload("migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]

    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


# --- Docker -------------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line for line in dockerfile.splitlines() if line and not line[0].isspace()]
    froms = [line for line in instructions if line.startswith("FROM ")]
    (user,) = [line.split()[1] for line in instructions if line.startswith("USER ")]

    assert len(froms) >= 2
    assert all("python:3.11-slim" in line for line in froms)
    assert "COPY --from=build /opt/venv" in dockerfile
    assert "uv sync --frozen --no-dev" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert user.split(":")[0] not in {"root", "0"}
    assert instructions.index(next(i for i in instructions if i.startswith("USER "))) > (
        instructions.index(froms[-1])
    )
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
    assert '"gunicorn", "config.wsgi:application"' in dockerfile


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".env", ".git", ".venv", "var"} <= ignored


def test_the_image_holds_the_sandbox_that_compose_runs() -> None:
    # The sandbox is a top-level package beside apps/ (docs/sandbox.md); compose's sandbox
    # service runs it from the product image, so the image must not leave it out.
    ignored = set((ROOT / ".dockerignore").read_text().split())
    command = _compose()["services"]["sandbox"]["command"]

    assert command[:3] == ["python", "-m", "sandbox"]
    assert (ROOT / "sandbox" / "__main__.py").is_file()
    assert not {"sandbox", "sandbox/", "/sandbox"} & ignored


def test_compose_runs_the_whole_stack_in_order() -> None:
    services = _compose()["services"]

    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat", "sandbox"}
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    # The image's health check asks gunicorn: only web keeps it.
    assert "healthcheck" not in services["web"]
    assert services["beat"]["healthcheck"] == {"disable": True}
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_every_setting_is_documented_in_the_env_example_and_the_readme() -> None:
    # The test-only switches of settings_test.py are not settings of the product.
    names = _settings_env_names() - {"DJANGO_ENV_FILE"}
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assert not {n for n in names if n not in example}, "missing from .env.example"
    undocumented = {
        n
        for n in names
        if n not in readme
        # The README documents these families by their prefix.
        and not n.startswith(("PUBLISHING_", "INSTAGRAM_", "CAPTION_", "AWS_"))
    }
    assert not undocumented, "missing from the README's configuration table"


# --- /metrics is not public (issue 13, finding 10) -------------------------------------------

MONITORING = ROOT / "deploy" / "monitoring"
INTERNAL_PATHS = {"metrics", "healthz", "readyz"}


def _top_level_segments() -> set[str]:
    """The first path segment of every URL the app answers ("" for the home page)."""
    from django.conf import settings
    from django.urls import URLResolver, get_resolver

    segments = {settings.STATIC_URL.strip("/")}

    def walk(pattern: Any, prefix: str) -> None:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver) and not str(pattern.pattern):
            for inner in pattern.url_patterns:
                walk(inner, route)
        else:
            segments.add(route.split("/")[0].lstrip("^"))

    for pattern in get_resolver().url_patterns:
        walk(pattern, "")
    return segments


def _routed(paths: list[dict[str, Any]], url: str) -> bool:
    for rule in paths:
        path, kind = rule["path"], rule["pathType"]
        if kind == "Exact" and url == path:
            return True
        # Prefix: whole segments (/api matches /api and /api/x, not /apix); / matches all.
        if kind == "Prefix" and (path == "/" or url == path or url.startswith(path + "/")):
            return True
    return False


def _ingress_paths() -> list[dict[str, Any]]:
    (ingress,) = _k8s_kind("Ingress")
    return [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]


def test_the_ingress_routes_the_public_paths_and_never_metrics() -> None:
    paths = _ingress_paths()
    segments = _top_level_segments()

    assert {"metrics", "api", "posts", "m", "facebook", "static"} <= segments
    for url in ("/metrics", "/metrics/", "/healthz", "/readyz"):
        assert not _routed(paths, url), url
    # Everything else the app answers is reachable (a new top-level URL needs a line).
    for segment in segments - INTERNAL_PATHS:
        assert _routed(paths, f"/{segment}"), segment
        if "." not in segment and segment:
            assert _routed(paths, f"/{segment}/anything"), segment
    assert all(p["backend"]["service"]["name"] == "social-automation-web" for p in paths)


def test_the_manifests_require_a_metrics_token_and_prometheus_sends_it() -> None:
    (web,) = _workload("web")["spec"]["template"]["spec"]["containers"]
    (token,) = [e for e in web["env"] if e["name"] == "METRICS_TOKEN"]
    ref = token["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == (CONFIG, "METRICS_TOKEN")
    assert not ref.get("optional", False)  # a pod without the token does not start
    (secret,) = _k8s_documents()["secret.example.yaml"]
    assert "METRICS_TOKEN" in secret["stringData"]

    prometheus = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    (job,) = [j for j in prometheus["scrape_configs"] if j["job_name"] == "social-automation-web"]
    assert job["authorization"]["type"] == "Bearer"
    assert job["authorization"]["credentials_file"]

    assert "METRICS_TOKEN" in _compose()["x-app"]["environment"]
