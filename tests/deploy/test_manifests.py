"""deploy/: the compose file, the Kubernetes overlays, the image's entry point and Dockerfile.

No Docker and no cluster here: the compose file is read as YAML and compared with what
`make run` starts; the kustomize overlays are rendered by tests/deploy/kustomize.py and every
object is validated against the Kubernetes JSON schemas shipped by kubernetes-validate (CRDs,
which it has no schema for, get a structural check); the entry point is run with stub
`uvicorn`/`python` executables that print what they were asked to start.
"""

from __future__ import annotations

import fnmatch
import importlib
import io
import os
import re
import stat
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

from doorstep_shared.auth.service_keys import ServiceKey
from doorstep_shared.auth.tokens import SigningKey
from doorstep_shared.config import ServiceSettings
from doorstep_shared.pii import PiiCipher
from doorstep_tools.apps import SERVICES

from .kustomize import build, containers_of, load_documents, pod_spec

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
OVERLAYS = ("dev", "prod")
SERVICE_KEY = ServiceKey.generate("proxy", "proxy-test")
STATIONS_KEY = ServiceKey.generate("stations", "stations-test")
APPS = tuple(SERVICES)  # gateway, catalog, proxy, stations: the four `make run` processes
# What `make run` binds (issue 2; each app's settings default agrees, checked below).
MAKE_RUN_PORTS = {"gateway": 8000, "catalog": 8001, "proxy": 8002, "stations": 8003}
# The Kubernetes versions the manifests must validate against: a widely deployed one and the
# newest whose schemas kubernetes-validate ships.
K8S_VERSIONS = ("1.33", kubernetes_validate.utils.latest_version())
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - inside a container that is the point
CRD_GROUPS = {"postgresql.cnpg.io", "barmancloud.cnpg.io"}
# Variables the manifests may pass that are not fields of an app's settings class.
NON_SETTINGS_VARS = {
    "DOORSTEP_ENV_FILE",  # read by deploy/entrypoint.sh (compose's generated PII keys)
}
# Settings read under an alias rather than the app's prefix.
ALIASED_VARS = {"DOORSTEP_DEMO_PASSWORD": "gateway"}


def prefix(app: str) -> str:
    return f"DOORSTEP_{app.upper()}_"


# --- helpers ---------------------------------------------------------------------------------


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(build(DEPLOY / "k8s" / "overlays" / overlay))


def objects(overlay: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [o for o in rendered(overlay) if kind is None or o["kind"] == kind]


def get(overlay: str, kind: str, name: str) -> dict[str, Any]:
    (hit,) = [o for o in objects(overlay, kind) if o["metadata"]["name"] == name]
    return hit


def settings_class(app: str) -> type[ServiceSettings] | None:
    try:
        module = importlib.import_module(f"{SERVICES[app]}.config")
    except ImportError:
        return None
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
        and value.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{module.__name__} should define one settings class"
    return classes[0]


def require_settings(app: str) -> type[ServiceSettings]:
    cls = settings_class(app)
    if cls is None:
        pytest.skip(f"{SERVICES[app]}.config does not import yet")
    return cls


def container_env_names(overlay: str, container: dict[str, Any]) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(get(overlay, "ConfigMap", source["configMapRef"]["name"])["data"])
        else:  # a Secret's keys are not knowable from the manifests
            pytest.fail(f"envFrom secretRef hides variable names: {source}")
    return names


def app_container(overlay: str, app: str) -> dict[str, Any]:
    spec = pod_spec(get(overlay, "Deployment", app))
    assert spec is not None
    (container,) = spec["containers"]
    found: dict[str, Any] = container
    return found


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))
    return data


def interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with nothing set: the defaults."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def compose_env(service: str) -> dict[str, str]:
    env = compose()["services"][service].get("environment", {})
    assert isinstance(env, dict), "use the mapping form of `environment`"
    return {k: interpolate(str(v)) for k, v in env.items()}


# --- compose: the same system as `make run` --------------------------------------------------


def test_compose_runs_the_four_make_run_apps_on_their_ports() -> None:
    services = compose()["services"]
    for app, port in MAKE_RUN_PORTS.items():
        service = services[app]
        assert service["command"] == [app]
        published = [interpolate(p) for p in service["ports"]]
        assert published == [f"127.0.0.1:{port}:{port}"]
        assert compose_env(app)[f"{prefix(app)}PORT"] == str(port)


def test_make_run_starts_the_same_apps_and_factories_as_the_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    launcher = importlib.import_module("doorstep_tools.launcher")
    assert tuple(launcher.APPS) == APPS
    started: list[list[str]] = []

    def fake_popen(cmd: list[str], **_: Any) -> SimpleNamespace:
        started.append(cmd)
        return SimpleNamespace(stdout=io.BytesIO())  # the launcher relays it, prefixed

    monkeypatch.setattr(launcher.subprocess, "Popen", fake_popen)
    for name in list(os.environ):
        if name.startswith("DOORSTEP_"):
            monkeypatch.delenv(name)
    for app in APPS:
        launcher.start(app, {})
    entry = ENTRYPOINT.read_text(encoding="utf-8")
    for app, cmd in zip(APPS, started, strict=True):
        module = cmd[cmd.index("uvicorn") + 1]
        assert "--factory" in cmd
        assert int(cmd[cmd.index("--port") + 1]) == MAKE_RUN_PORTS[app]
        assert f"{app}) serve {module} {prefix(app)} {MAKE_RUN_PORTS[app]}" in entry


def test_make_run_ports_are_the_settings_defaults() -> None:
    for app, port in MAKE_RUN_PORTS.items():
        cls = settings_class(app)
        if cls is not None:
            assert cls.model_fields["port"].default == port, app


def test_compose_apps_use_only_their_own_prefix_and_one_database_with_a_schema_each() -> None:
    for app in APPS:
        env = compose_env(app)
        foreign = {k for k in env if not k.startswith(prefix(app))} - NON_SETTINGS_VARS
        foreign -= {name for name, owner in ALIASED_VARS.items() if owner == app}
        assert not foreign, f"{app} gets {foreign}"
        assert env[f"{prefix(app)}DATABASE_URL"] == ("postgresql+asyncpg://doorstep:doorstep@postgres:5432/doorstep")
        assert env[f"{prefix(app)}DATABASE_SCHEMA"] == app
        assert env[f"{prefix(app)}JWKS_URL"] == "http://gateway:8000/.well-known/jwks.json"
        assert env[f"{prefix(app)}HOST"] == ALL_INTERFACES


def test_compose_gateway_reaches_services_redis_and_a_generated_signing_key() -> None:
    env = compose_env("gateway")
    for app in ("catalog", "proxy", "stations"):
        assert env[f"DOORSTEP_GATEWAY_{app.upper()}_URL"] == f"http://{app}:{MAKE_RUN_PORTS[app]}"
    assert env["DOORSTEP_GATEWAY_REDIS_URL"] == "redis://redis:6379/0"
    key_file = Path(env["DOORSTEP_GATEWAY_SIGNING_KEY_FILE"])
    keys = compose()["services"]["keys"]
    assert keys["command"] == ["keys"]
    assert str(key_file.parent) == keys["environment"]["DOORSTEP_KEYS_DIR"]
    assert key_file.stem == keys["environment"]["DOORSTEP_DEV_KEY_ID"]
    assert f"keys:{key_file.parent}:ro" in compose()["services"]["gateway"]["volumes"]


def test_compose_start_order_is_postgres_then_migrate_then_apps() -> None:
    services = compose()["services"]

    def waits_for(service: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in services[service]["depends_on"].items()}

    assert services["postgres"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["postgres"]
    assert services["migrate"]["command"] == ["migrate"]
    assert waits_for("migrate")["postgres"] == "service_healthy"
    assert waits_for("seed")["migrate"] == "service_completed_successfully"
    for app in APPS:
        assert waits_for(app)["migrate"] == "service_completed_successfully"
    for app in ("catalog", "proxy", "stations"):
        assert waits_for("gateway")[app] == "service_healthy"


def test_compose_one_shots_get_every_apps_settings() -> None:
    for job in ("migrate", "seed"):
        env = compose_env(job)
        for app in APPS:
            assert set(compose_env(app)) <= set(env), (job, app)


def test_compose_builds_one_image_from_the_repository_root() -> None:
    services = compose()["services"]
    ours = [name for name in services if name not in {"postgres", "redis"}]
    images = {services[name]["image"] for name in ours}
    assert len(images) == 1
    for name in ours:
        assert services[name]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert services[name]["read_only"] is True


# --- Kubernetes: every object validates ------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_kubernetes_object_validates_against_the_schemas(overlay: str, version: str) -> None:
    checked = 0
    for obj in rendered(overlay):
        if obj["apiVersion"].split("/")[0] in CRD_GROUPS:
            continue  # CRDs: structural checks below
        kubernetes_validate.validate(obj, version, strict=True)
        checked += 1
    assert checked > 20


def test_the_secret_example_validates_and_holds_every_key_the_manifests_read() -> None:
    example = load_documents(DEPLOY / "k8s" / "base" / "secrets.example.yaml")
    keys = {s["metadata"]["name"]: set(s["stringData"]) for s in example}
    for secret in example:
        kubernetes_validate.validate(secret, K8S_VERSIONS[0], strict=True)
    script = (DEPLOY / "k8s" / "create-secrets.sh").read_text(encoding="utf-8")
    for overlay in OVERLAYS:
        for container in containers_of(list(rendered(overlay))):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] in keys:
                    assert ref["key"] in keys[ref["name"]], ref
                    assert re.search(rf"--from-(literal|file)={re.escape(ref['key'])}=", script)


def test_prod_runs_postgresql_as_a_three_instance_cloudnativepg_cluster_with_backups() -> None:
    (cluster,) = objects("prod", "Cluster")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert spec["bootstrap"]["initdb"]["database"] == "doorstep"
    assert spec["storage"]["size"]
    (plugin,) = spec["plugins"]
    assert plugin["name"] == "barman-cloud.cloudnative-pg.io"
    assert plugin["isWALArchiver"] is True
    store = get("prod", "ObjectStore", plugin["parameters"]["barmanObjectName"])
    assert store["apiVersion"] == "barmancloud.cnpg.io/v1"
    configuration = store["spec"]["configuration"]
    assert configuration["destinationPath"].startswith("s3://")
    for credential in configuration["s3Credentials"].values():
        assert set(credential) == {"name", "key"}  # from a Secret, never inline
    assert re.fullmatch(r"[1-9][0-9]*[dwm]", store["spec"]["retentionPolicy"])
    (backup,) = objects("prod", "ScheduledBackup")
    assert backup["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert len(backup["spec"]["schedule"].split()) == 6
    assert backup["spec"]["method"] == "plugin"


def test_dev_runs_its_own_postgres_and_redis_and_prod_neither() -> None:
    assert {o["metadata"]["name"] for o in objects("dev", "StatefulSet")} == {"postgres"}
    assert "redis" in {o["metadata"]["name"] for o in objects("dev", "Deployment")}
    assert {o["metadata"]["name"] for o in objects("prod", "Deployment")} == set(APPS)
    assert not objects("prod", "StatefulSet")


# --- Kubernetes: the shape of each app -------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("app", APPS)
def test_each_app_is_one_hardened_uvicorn_pod_with_probes_and_graceful_shutdown(overlay: str, app: str) -> None:
    deployment = get(overlay, "Deployment", app)
    spec = pod_spec(deployment)
    assert spec is not None
    container = app_container(overlay, app)
    assert container["args"] == [app]
    assert "command" not in container  # the image's entry point, nothing else
    assert not container["image"].startswith("doorstep:") or overlay == "dev"
    assert "replicas" not in deployment["spec"]  # the HPA owns it
    port = container["ports"][0]["containerPort"]
    assert port == MAKE_RUN_PORTS[app]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    hardening = container["securityContext"]
    assert hardening["readOnlyRootFilesystem"] is True
    assert hardening["allowPrivilegeEscalation"] is False
    assert hardening["capabilities"]["drop"] == ["ALL"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] >= 10000
    assert spec["enableServiceLinks"] is False
    assert spec["automountServiceAccountToken"] is False
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    drain = 20  # uvicorn --timeout-graceful-shutdown in deploy/entrypoint.sh
    assert spec["terminationGracePeriodSeconds"] > int(pre_stop[1]) + drain
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("app", APPS)
def test_each_app_has_a_service_an_autoscaler_and_a_disruption_budget(overlay: str, app: str) -> None:
    pod_labels = get(overlay, "Deployment", app)["spec"]["template"]["metadata"]["labels"]
    service = get(overlay, "Service", app)
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["port"] == MAKE_RUN_PORTS[app]
    hpa = get(overlay, "HorizontalPodAutoscaler", app)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": app,
    }
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    pdb = get(overlay, "PodDisruptionBudget", app)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1
    if overlay == "prod":
        assert hpa["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_has_an_ingress_and_it_hides_health_and_metrics(overlay: str) -> None:
    (ingress,) = objects(overlay, "Ingress")
    backends = {
        path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
    if overlay == "prod":
        paths = {p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
        assert "/" not in paths
        assert not {"/healthz", "/readyz", "/metrics"} & paths
        assert ingress["spec"]["tls"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_migration_job_gets_every_apps_settings_and_runs_migrate(overlay: str) -> None:
    job = get(overlay, "Job", "doorstep-migrate")
    spec = pod_spec(job)
    assert spec is not None
    (container,) = spec["containers"]
    assert container["args"] == ["migrate"]
    assert spec["restartPolicy"] == "Never"
    names = container_env_names(overlay, container)
    for app in APPS:
        app_names = container_env_names(overlay, app_container(overlay, app))
        assert app_names - NON_SETTINGS_VARS - set(ALIASED_VARS) <= names, app
    assert container["image"] == app_container(overlay, "gateway")["image"]
    if overlay == "prod":
        assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"


def test_the_stations_worker_runs_in_every_replica() -> None:
    data = get("prod", "ConfigMap", "doorstep-stations")["data"]
    assert data["DOORSTEP_STATIONS_WORKER_ENABLED"] == "true"


def test_production_settings_are_production() -> None:
    for app in APPS:
        data = get("prod", "ConfigMap", f"doorstep-{app}")["data"]
        assert data[f"{prefix(app)}ENVIRONMENT"] == "production"
        assert data[f"{prefix(app)}DOCS_ENABLED"] == "false"
        assert data[f"{prefix(app)}LOG_JSON"] == "true"
    for app in APPS:
        assert "DOORSTEP_DEMO_PASSWORD" not in container_env_names("prod", app_container("prod", app))


# --- Kubernetes: who may talk to whom ---------------------------------------------------------


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        present = expr["key"] in labels
        value = labels.get(expr["key"])
        operator = expr["operator"]
        if operator == "In" and value not in expr["values"]:
            return False
        if operator == "NotIn" and value in expr["values"]:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _peer_admits(peer: dict[str, Any], namespace: str, labels: dict[str, str]) -> bool:
    ns_labels = {"kubernetes.io/metadata.name": namespace}
    if "namespaceSelector" in peer:
        ok = _matches(peer["namespaceSelector"], ns_labels)
        return ok and _matches(peer.get("podSelector", {}), labels)
    return namespace == "doorstep" and _matches(peer.get("podSelector", {}), labels)


def can_reach(overlay: str, target: dict[str, str], port: int, namespace: str, labels: dict[str, str]) -> bool:
    policies = [
        p
        for p in objects(overlay, "NetworkPolicy")
        if "Ingress" in p["spec"]["policyTypes"] and _matches(p["spec"]["podSelector"], target)
    ]
    if not policies:
        return True
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            if ports and port not in ports:
                continue
            if any(_peer_admits(peer, namespace, labels) for peer in rule.get("from", [])):
                return True
    return False


def _pod_labels(overlay: str, kind: str, name: str) -> dict[str, str]:
    labels: dict[str, str] = get(overlay, kind, name)["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_accept_traffic_only_from_the_gateway_and_each_other(overlay: str) -> None:
    ingress_controller = ("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    stranger_here = ("doorstep", {"app": "debug-shell"})
    stranger_elsewhere = ("other-team", {"app.kubernetes.io/name": "gateway"})
    for app in APPS:
        target = _pod_labels(overlay, "Deployment", app)
        port = MAKE_RUN_PORTS[app]
        for other in APPS:
            peer = _pod_labels(overlay, "Deployment", other)
            assert can_reach(overlay, target, port, "doorstep", peer), (other, app)
        assert not can_reach(overlay, target, port, *stranger_here), app
        assert not can_reach(overlay, target, port, *stranger_elsewhere), app
        from_outside = can_reach(overlay, target, port, *ingress_controller)
        assert from_outside == (app == "gateway"), app
        assert can_reach(overlay, target, port, "monitoring", {}), app  # /metrics scraping


def test_only_our_pods_reach_the_databases_and_only_the_gateway_reaches_redis() -> None:
    migrate = _pod_labels("dev", "Job", "doorstep-migrate")
    stranger = {"app": "debug-shell"}
    postgres = _pod_labels("dev", "StatefulSet", "postgres")
    assert can_reach("dev", postgres, 5432, "doorstep", migrate)
    assert can_reach("dev", postgres, 5432, "doorstep", _pod_labels("dev", "Job", "doorstep-seed"))
    assert not can_reach("dev", postgres, 5432, "doorstep", stranger)
    redis = _pod_labels("dev", "Deployment", "redis")
    assert can_reach("dev", redis, 6379, "doorstep", _pod_labels("dev", "Deployment", "gateway"))
    assert not can_reach("dev", redis, 6379, "doorstep", _pod_labels("dev", "Deployment", "proxy"))
    cnpg_pod = {"cnpg.io/cluster": "doorstep-db", "cnpg.io/instanceRole": "primary"}
    assert can_reach("prod", cnpg_pod, 5432, "doorstep", _pod_labels("prod", "Deployment", "proxy"))
    assert can_reach("prod", cnpg_pod, 5432, "doorstep", _pod_labels("prod", "Job", "doorstep-migrate"))
    assert can_reach("prod", cnpg_pod, 8000, "cnpg-system", {"app.kubernetes.io/name": "cnpg"})
    assert not can_reach("prod", cnpg_pod, 5432, "doorstep", stranger)


# --- settings: every variable the deployment passes is one the app reads ----------------------


def _manifest_vars_by_app() -> dict[str, set[str]]:
    """Every variable handed to any container, attributed to the app whose prefix it has."""
    names: set[str] = set()
    for overlay in OVERLAYS:
        for obj in rendered(overlay):
            spec = pod_spec(obj)
            if spec is None or obj["metadata"]["name"] in {"postgres", "redis"}:
                continue
            for container in spec["containers"]:
                names |= container_env_names(overlay, container)
    for service in compose()["services"]:
        if service not in {"postgres", "redis", "keys"}:
            names |= set(compose_env(service))
    by_app: dict[str, set[str]] = {app: set() for app in APPS}
    for name in names - NON_SETTINGS_VARS:
        owners = [app for app in APPS if name.startswith(prefix(app))]
        owners += [ALIASED_VARS[name]] if name in ALIASED_VARS else []
        assert owners, f"{name} belongs to no app"
        by_app[owners[0]].add(name)
    return by_app


@pytest.mark.parametrize("app", APPS)
def test_every_variable_the_manifests_pass_is_a_setting_of_that_app(app: str) -> None:
    cls = require_settings(app)
    assert cls.model_config.get("env_prefix") == prefix(app)
    fields = {prefix(app) + name.upper() for name in cls.model_fields}
    fields |= {field.validation_alias for field in cls.model_fields.values() if isinstance(field.validation_alias, str)}
    unknown = _manifest_vars_by_app()[app] - fields
    assert not unknown, f"{cls.__name__} has no field for {sorted(unknown)}"


# --- the entry point ---------------------------------------------------------------------------


@pytest.fixture
def stub_bin(tmp_path: Path) -> Path:
    """`uvicorn` and `python` that print their argv (and the variables the test asks about)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name in ("uvicorn", "python"):
        stub = directory / name
        stub.write_text(
            '#!/bin/sh\nprintf "%s\\n" "$(basename "$0")" "$@"\n'
            'for v in $SHOW_VARS; do printf "%s=%s\\n" "$v" "$(printenv "$v")"; done\n',
            encoding="utf-8",
        )
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    return directory


def run_entrypoint(stub_bin: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": f"{stub_bin}:/usr/bin:/bin", "HOME": "/nonexistent"}
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["/bin/sh", str(ENTRYPOINT), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("app", APPS)
def test_entrypoint_serves_each_app_with_its_factory_on_its_own_port(stub_bin: Path, app: str) -> None:
    port = str(MAKE_RUN_PORTS[app] + 100)
    result = run_entrypoint(stub_bin, app, env={f"{prefix(app)}PORT": port})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "uvicorn",
        f"{SERVICES[app]}.main:create_app",
        "--factory",
        "--host",
        ALL_INTERFACES,
        "--port",
        port,
        "--no-access-log",
        "--no-server-header",
        "--no-proxy-headers",
        "--http",
        "doorstep_tools.launcher:CoalescingHttpToolsProtocol",  # as `make run` starts them
        "--timeout-graceful-shutdown",
        "20",
    ]
    # Without the setting, the app's default port.
    by_env = run_entrypoint(stub_bin, env={"DOORSTEP_APP": app})
    assert by_env.stdout.splitlines()[6] == str(MAKE_RUN_PORTS[app])


@pytest.mark.parametrize("app", APPS)
def test_the_module_the_entrypoint_names_has_an_app_factory(app: str) -> None:
    try:
        module = importlib.import_module(f"{SERVICES[app]}.main")
    except ImportError:
        pytest.skip(f"{SERVICES[app]}.main does not import yet")
    assert callable(module.create_app)


def test_entrypoint_runs_migrations_and_seed_as_one_shots(stub_bin: Path) -> None:
    migrate = run_entrypoint(stub_bin, "migrate", "catalog")
    assert migrate.stdout.splitlines() == [
        "python",
        "-m",
        "doorstep_tools.migrate",
        "upgrade",
        "catalog",
    ]
    seed = run_entrypoint(stub_bin, env={"DOORSTEP_APP": "seed"})
    assert seed.stdout.splitlines() == ["python", "-m", "doorstep_tools.launcher", "--seed-only"]
    assert callable(importlib.import_module("doorstep_tools.migrate").main)


def test_entrypoint_refuses_an_unknown_app_and_a_bad_port(stub_bin: Path) -> None:
    assert run_entrypoint(stub_bin, "worker").returncode == 64
    assert run_entrypoint(stub_bin).returncode == 64
    bad = run_entrypoint(stub_bin, "catalog", env={"DOORSTEP_CATALOG_PORT": "80; rm -rf /"})
    assert bad.returncode == 64
    assert "uvicorn" not in bad.stdout


def test_entrypoint_exports_the_env_file_verbatim(stub_bin: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "pii.env"
    env_file.write_text("# generated\nDOORSTEP_PROXY_PII_KEYS=k1:abc$(touch /tmp/pwned)\n", encoding="utf-8")
    result = run_entrypoint(
        stub_bin,
        "proxy",
        env={"DOORSTEP_ENV_FILE": str(env_file), "SHOW_VARS": "DOORSTEP_PROXY_PII_KEYS"},
    )
    assert "DOORSTEP_PROXY_PII_KEYS=k1:abc$(touch /tmp/pwned)" in result.stdout.splitlines()
    missing = run_entrypoint(stub_bin, "proxy", env={"DOORSTEP_ENV_FILE": str(tmp_path / "no")})
    assert missing.returncode == 78


def test_entrypoint_makes_usable_development_keys_once(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "DOORSTEP_KEYS_DIR": str(keys),
        "DOORSTEP_DEV_KEY_ID": "doorstep-dev-1",
    }
    first = subprocess.run(  # noqa: S603
        ["/bin/sh", str(ENTRYPOINT), "keys"], env=env, capture_output=True, text=True, check=False
    )
    assert first.returncode == 0, first.stderr
    pem = keys / "doorstep-dev-1.pem"
    assert SigningKey.from_pem(pem.stem, pem.read_bytes()).kid == "doorstep-dev-1"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in (keys / "pii.env").read_text(encoding="utf-8").split())
    for service in ("GATEWAY", "PROXY", "STATIONS"):
        cipher = PiiCipher.from_config(
            values[f"DOORSTEP_{service}_PII_KEYS"], values[f"DOORSTEP_{service}_PII_HASH_KEY"]
        )
        assert cipher.decrypt(cipher.encrypt("13800000000")) == "13800000000"
    # The proxy's service key, and the catalog trusting its public half.
    service = ServiceKey.from_config("proxy", values["DOORSTEP_PROXY_SERVICE_KEY"])
    assert values["DOORSTEP_CATALOG_TRUSTED_SERVICE_KEYS"] == service.public_config()
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    again = subprocess.run(  # noqa: S603
        ["/bin/sh", str(ENTRYPOINT), "keys"], env=env, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before


@pytest.mark.parametrize("app", APPS)
def test_the_entrypoint_and_the_settings_agree_on_what_prod_manifests_pass(
    app: str, stub_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = require_settings(app)
    container = app_container("prod", app)
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        env |= get("prod", "ConfigMap", source["configMapRef"]["name"])["data"]
    signing = SigningKey.generate("k-test")
    pem = tmp_path / "signing-key.pem"
    pem.write_bytes(signing.to_pem())
    secret_values = {
        "database-url": "postgresql+asyncpg://doorstep:pw@doorstep-db-rw:5432/doorstep",
        "redis-url": "redis://redis:6379/0",
        "kid": signing.kid,
        "proxy-pii-keys": "p1:" + "A" * 43,
        "proxy-pii-hash-key": "B" * 43,
        "stations-pii-keys": "s1:" + "C" * 43,
        "stations-pii-hash-key": "D" * 43,
        "gateway-pii-keys": "g1:" + "E" * 43,
        "gateway-pii-hash-key": "E" * 43,
        "gateway-audit-keys": "g1:" + "F" * 43,
        "catalog-audit-keys": "c1:" + "G" * 43,
        "proxy-audit-keys": "p1:" + "H" * 43,
        "proxy-service-key": SERVICE_KEY.to_config(),
        "trusted-service-keys": SERVICE_KEY.public_config(),
        "stations-service-key": STATIONS_KEY.to_config(),
        "gateway-trusted-service-keys": f"{SERVICE_KEY.public_config()},{STATIONS_KEY.public_config()}",
    }
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            env[item["name"]] = secret_values[item["valueFrom"]["secretKeyRef"]["key"]]
    if f"{prefix(app)}SIGNING_KEY_FILE" in env:
        env[f"{prefix(app)}SIGNING_KEY_FILE"] = str(pem)  # the mounted Secret, here a file

    started = run_entrypoint(stub_bin, *container["args"], env=env)
    argv = started.stdout.splitlines()
    assert argv[1] == f"{SERVICES[app]}.main:create_app"
    assert int(argv[argv.index("--port") + 1]) == container["ports"][0]["containerPort"]

    for name in list(os.environ):
        if name.startswith("DOORSTEP_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = cls()
    assert settings.port == container["ports"][0]["containerPort"]
    assert settings.environment == "production"
    assert settings.database_schema == app
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.docs_enabled is False


# --- the image --------------------------------------------------------------------------------


def _dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def test_the_image_is_multi_stage_locked_non_root_and_health_checked() -> None:
    text = _dockerfile()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, flags=re.MULTILINE)
    assert [name for _, name in stages] == ["builder", "runtime"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "uv==${UV_VERSION}" in text
    assert "ARG UV_VERSION=0.13.8" in text
    assert re.search(r"uv sync --frozen --no-dev --no-editable\s*$", text, flags=re.MULTILINE)
    runtime = text.split("AS runtime", 1)[1]
    assert "uv sync" not in runtime
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["/app/entrypoint.sh"]' in runtime
    assert 'CMD ["/app/entrypoint.sh", "healthcheck"]' in runtime
    assert "COPY --chmod=0755 deploy/entrypoint.sh /app/entrypoint.sh" in runtime


def test_the_build_context_ignores_everything_but_sources_and_the_lock() -> None:
    # Docker reads <Dockerfile>.dockerignore before a root .dockerignore.
    patterns = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def sent(path: str) -> bool:
        included = True
        for pattern in patterns:
            negate = pattern.startswith("!")
            if fnmatch.fnmatch(path, pattern.removeprefix("!")):
                included = negate
        return included

    copied = re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+)", _dockerfile(), flags=re.MULTILINE)
    for source in copied:
        if (REPO / source).is_file():
            assert sent(source), source
        else:
            files = [p for p in (REPO / source).rglob("*.py") if "__pycache__" not in p.parts]
            assert files
            for path in files:
                relative = str(path.relative_to(REPO))
                if "/src/" in relative:
                    assert sent(relative), relative
    for private in ("tests/conftest.py", ".git/config", "var/gateway.db", ".venv/pyvenv.cfg"):
        assert not sent(private), private
