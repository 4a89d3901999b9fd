"""Static checks of the deployment packaging under deploy/ and k8s/.

Needs no cluster and no Docker daemon: YAML is parsed, the Kubernetes objects are checked for
probes, security context, resources and the services' default ports, the Helm templates are
checked statically on every branch, rendered or not (balanced blocks, every include defined,
every .Values path present in values.yaml), the Dockerfile's stages and RUN scripts, the
compose file and the systemd units (systemd-analyze verify). The kustomize base and overlay
are rendered with `kubectl kustomize` (tools/kube, unpacked by tools/bootstrap-deps.sh). What
the real helm and kubectl say about the rendered objects (lint, API schemas, pod security,
probe routes): test_helm_charts.py.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_deploy_manifests.py
"""
import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(os.environ.get("PLATFORM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
DEPLOY = ROOT / "deploy"
K8S = ROOT / "k8s"
HELM = DEPLOY / "helm"

# The binaries' contract: default port, and the variables naming listen address and port.
SERVICES = {
    "auth-server": (3000, "AUTH_HOST", "AUTH_PORT"),
    "manager": (8443, "MANAGER_HOST", "MANAGER_PORT"),
    "threat-cloud": (8080, "TC_HOST", "TC_PORT"),
    "shardlyn-api": (8090, "SHARDLYN_HOST", "SHARDLYN_PORT"),
    "shardlyn-agent": (9101, "AGENT_HOST", "AGENT_METRICS_PORT"),
}
SERVERS = ["auth-server", "manager", "threat-cloud", "shardlyn-api"]
LIB_CHART = "platform-lib"
WORKLOAD_KINDS = {"StatefulSet", "Deployment", "DaemonSet"}
# A root init container may only take ownership of a hostPath directory.
INIT_ROOT_CAPS = {"CHOWN", "FOWNER"}


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def yaml_files(base, skip_dirs=()):
    for path in sorted(base.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        rel = path.relative_to(base).parts
        if any(part in skip_dirs for part in rel[:-1]):
            continue
        yield path


def k8s_source_objects():
    """Every Kubernetes object in k8s/ (kustomization files and patches excluded)."""
    objects = []
    for path in yaml_files(K8S):
        if path.name == "kustomization.yaml":
            continue
        for doc in load_all(path):
            objects.append((path, doc))
    return objects


def env_file(path):
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def service_name(obj):
    return obj["metadata"]["labels"]["app.kubernetes.io/name"]


# ----------------------------------------------------------------------------- YAML parses

def test_every_k8s_yaml_parses_into_named_objects():
    files = list(yaml_files(K8S))
    assert files, "no YAML under k8s/"
    for path in files:
        docs = load_all(path)
        assert docs, f"{path}: empty"
        for doc in docs:
            assert isinstance(doc, dict), f"{path}: not a mapping"
            assert doc.get("apiVersion") and doc.get("kind"), f"{path}: apiVersion/kind missing"
            if doc["kind"] != "Kustomization":
                assert doc.get("metadata", {}).get("name"), f"{path}: {doc['kind']} without a name"


def test_every_non_template_yaml_under_deploy_parses():
    # templates/ hold Go templates, charts/ the symlinked library (checked at its own path).
    files = list(yaml_files(DEPLOY, skip_dirs=("templates", "charts")))
    names = {p.relative_to(DEPLOY).as_posix() for p in files}
    assert "docker-compose.yml" in names
    for chart in SERVERS + ["shardlyn-agent", LIB_CHART]:
        assert f"helm/{chart}/Chart.yaml" in names
        assert f"helm/{chart}/values.yaml" in names
    for path in files:
        load_all(path)


# ----------------------------------------------------------------------------- kustomize

def kustomizations():
    return sorted(K8S.rglob("kustomization.yaml"))


def test_kustomization_references_exist():
    assert (K8S / "base" / "kustomization.yaml").is_file()
    assert (K8S / "overlays" / "production" / "kustomization.yaml").is_file()
    for kfile in kustomizations():
        k = load_all(kfile)[0]
        here = kfile.parent
        for res in k.get("resources", []) + k.get("components", []):
            target = (here / res).resolve()
            assert target.is_file() or (target / "kustomization.yaml").is_file(), f"{kfile}: {res}"
        for gen in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
            for f in gen.get("envs", []) + [x.split("=")[-1] for x in gen.get("files", [])]:
                assert (here / f).is_file(), f"{kfile}: {f}"
        for patch in k.get("patches", []):
            if "path" in patch:
                assert (here / patch["path"]).is_file(), f"{kfile}: {patch['path']}"
            else:
                assert patch.get("patch") and patch.get("target"), f"{kfile}: patch without target"


def test_base_lists_every_manifest_and_one_file_per_service():
    base = K8S / "base"
    k = load_all(base / "kustomization.yaml")[0]
    listed = set(k["resources"])
    on_disk = {p.name for p in base.glob("*.yaml")} - {"kustomization.yaml"}
    assert on_disk == listed, f"unlisted or missing: {on_disk ^ listed}"
    for svc in SERVICES:
        assert f"{svc}.yaml" in listed
        assert any(g["name"] == f"{svc}-config" for g in k["configMapGenerator"])


# ----------------------------------------------------------------------------- containers

def check_workload(path, obj):
    spec = pod_spec(obj)
    where = f"{path}: {obj['kind']}/{obj['metadata']['name']}"
    if obj["kind"] == "StatefulSet":
        assert obj["spec"].get("replicas") == 1, f"{where}: SQLite services must keep 1 replica"
    assert spec.get("terminationGracePeriodSeconds") == 30, where
    assert spec.get("automountServiceAccountToken") is False, where
    pod_sc = spec.get("securityContext", {})
    for c in spec["containers"]:
        name = f"{where} container {c['name']}"
        sc = c.get("securityContext", {})
        for probe, path_ in (("livenessProbe", "/health"), ("readinessProbe", "/health/ready")):
            assert probe in c, f"{name}: {probe} missing"
            assert c[probe]["httpGet"]["path"] == path_, f"{name}: {probe} path"
        assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, f"{name}: runAsNonRoot"
        assert sc.get("runAsUser", pod_sc.get("runAsUser", 10001)) != 0, f"{name}: runs as root"
        assert sc.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem"
        assert sc.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation"
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: drop ALL"
        assert not sc.get("capabilities", {}).get("add"), f"{name}: adds capabilities"
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault", f"{name}: seccomp"
        limits = c.get("resources", {}).get("limits", {})
        requests = c.get("resources", {}).get("requests", {})
        assert "cpu" in limits and "memory" in limits, f"{name}: resource limits"
        assert "cpu" in requests and "memory" in requests, f"{name}: resource requests"
        assert any(m["mountPath"] == "/data" for m in c.get("volumeMounts", [])), f"{name}: /data"
    for c in spec.get("initContainers", []):
        name = f"{where} init container {c['name']}"
        sc = c.get("securityContext", {})
        caps = sc.get("capabilities", {})
        assert caps.get("drop") == ["ALL"], f"{name}: drop ALL"
        assert sc.get("allowPrivilegeEscalation") is False, name
        assert sc.get("readOnlyRootFilesystem") is True, name
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            assert set(caps.get("add", [])) <= INIT_ROOT_CAPS, f"{name}: root with {caps.get('add')}"
        assert "memory" in c.get("resources", {}).get("limits", {}), f"{name}: limits"


def workloads(objects):
    return [(p, o) for p, o in objects if o["kind"] in WORKLOAD_KINDS]


def test_every_k8s_container_has_probes_security_context_and_limits():
    found = workloads(k8s_source_objects())
    assert {service_name(o) for _, o in found} == set(SERVICES)
    for path, obj in found:
        check_workload(path, obj)
    agent = [o for _, o in found if service_name(o) == "shardlyn-agent"]
    assert agent[0]["kind"] == "DaemonSet"


def test_k8s_ports_match_the_binaries_defaults():
    objects = k8s_source_objects()
    config = K8S / "base" / "config"
    for path, obj in workloads(objects):
        svc = service_name(obj)
        port, host_env, port_env = SERVICES[svc]
        c = pod_spec(obj)["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert list(ports.values()) == [port], f"{path}: containerPort {ports}"
        for probe in ("livenessProbe", "readinessProbe"):
            assert c[probe]["httpGet"]["port"] in ports, f"{path}: {probe} port"
        scheme = "HTTPS" if svc == "manager" else "HTTP"
        assert c["livenessProbe"]["httpGet"].get("scheme", "HTTP") == scheme, f"{path}: scheme"
        env = env_file(config / f"{svc}.env")
        assert env[port_env] == str(port) and env[host_env] == "0.0.0.0", svc
        assert env["DATA_DIR"] == "/data" and env["APP_ENV"] == "development", svc
    services = {o["metadata"]["name"]: o for _, o in objects if o["kind"] == "Service"}
    assert set(services) == set(SERVERS)
    for name, obj in services.items():
        (p,) = obj["spec"]["ports"]
        assert p["port"] == SERVICES[name][0], name
        assert obj["spec"]["selector"] == {"app.kubernetes.io/name": name}
    for _, obj in objects:
        if obj["kind"] == "NetworkPolicy":
            svc = obj["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            assert [p["port"] for p in obj["spec"]["ingress"][0]["ports"]] == [SERVICES[svc][0]]


def kustomize(path):
    kubectl = ROOT / "tools" / "kube" / "kubectl" / "kubectl"
    assert kubectl.is_file(), f"{kubectl} missing: run tools/bootstrap-deps.sh"
    out = subprocess.run([str(kubectl), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def test_kustomize_base_renders():
    docs = kustomize(K8S / "base")
    assert all(d["metadata"].get("namespace") == "platform" for d in docs if d["kind"] != "Namespace")
    for obj in [d for d in docs if d["kind"] in WORKLOAD_KINDS]:
        check_workload("k8s/base (rendered)", obj)
        cm = pod_spec(obj)["containers"][0]["envFrom"][0]["configMapRef"]["name"]
        assert any(d["kind"] == "ConfigMap" and d["metadata"]["name"] == cm for d in docs), cm


def test_kustomize_production_overlay_sets_production_and_requires_secrets():
    docs = kustomize(K8S / "overlays" / "production")
    configmaps = [d for d in docs if d["kind"] == "ConfigMap"]
    assert len(configmaps) == len(SERVICES)
    assert all(d["data"]["APP_ENV"] == "production" for d in configmaps)
    for obj in [d for d in docs if d["kind"] in WORKLOAD_KINDS]:
        check_workload("k8s/overlays/production (rendered)", obj)
        refs = [e["secretRef"] for e in pod_spec(obj)["containers"][0]["envFrom"] if "secretRef" in e]
        assert refs and all(r.get("optional", False) is False for r in refs), refs
        assert refs[0]["name"] == f"{service_name(obj)}-secrets"


# ----------------------------------------------------------------------------- helm

ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
INCLUDE = re.compile(r'\b(?:include|template)\s+(?:"([^"]+)"|\(printf\s+"%s(\.[\w-]+)"\s+\.Chart\.Name\))')
VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_]\w*)+)")
BLOCK_OPEN = ("if", "range", "with", "define", "block")


def parse_templates(text, where):
    """Returns (top-level actions, {define name: actions}); asserts balanced blocks."""
    top, defines, stack = [], {}, []
    for m in ACTION.finditer(text):
        action = m.group(1).strip()
        if action.startswith("/*"):
            assert action.endswith("*/"), f"{where}: unterminated comment"
            continue
        assert action.count('"') % 2 == 0, f"{where}: unbalanced quotes in {{{{{action}}}}}"
        assert action.count("(") == action.count(")"), f"{where}: unbalanced parentheses in {action}"
        word = action.split(None, 1)[0] if action else ""
        if word == "end":
            assert stack, f"{where}: 'end' without a block"
            stack.pop()
            continue
        if word == "define":
            name = re.match(r'define\s+"([^"]+)"', action).group(1)
            assert name not in defines, f"{where}: {name} defined twice"
            defines[name] = []
            stack.append(name)
            continue
        if word in BLOCK_OPEN:
            stack.append(stack[-1] if stack else None)
        if stack and stack[-1] is not None:
            defines[stack[-1]].append(action)
        else:
            top.append(action)
    assert not stack, f"{where}: unclosed block"
    assert text.count("{{") == text.count("}}"), f"{where}: unbalanced braces"
    return top, defines


def chart_dirs():
    return sorted(p.parent for p in HELM.glob("*/Chart.yaml"))


def included_names(actions, chart):
    for action in actions:
        for name, suffix in INCLUDE.findall(action):
            yield name or chart + suffix


def values_path_exists(values, path):
    node = values
    for key in path.strip(".").split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def test_every_chart_has_chart_yaml_values_and_templates():
    charts = {p.name for p in chart_dirs()}
    assert charts == set(SERVICES) | {LIB_CHART}
    lib = load_all(HELM / LIB_CHART / "Chart.yaml")[0]
    assert lib["apiVersion"] == "v2" and lib["type"] == "library"
    for chart in SERVICES:
        d = HELM / chart
        meta = load_all(d / "Chart.yaml")[0]
        assert meta["apiVersion"] == "v2" and meta["name"] == chart and meta.get("type") == "application"
        assert meta["version"] and meta["appVersion"]
        (dep,) = meta["dependencies"]
        assert dep["name"] == LIB_CHART and dep["version"] == lib["version"]
        # The library travels with the chart through a symlink: installable on its own.
        link = d / "charts" / LIB_CHART
        assert link.is_symlink() and link.resolve() == (HELM / LIB_CHART).resolve()
        templates = {p.name for p in (d / "templates").iterdir()}
        assert {"_helpers.tpl", "NOTES.txt", "configmap.yaml", "secret.yaml", "serviceaccount.yaml"} <= templates
        workload = "daemonset.yaml" if chart == "shardlyn-agent" else "statefulset.yaml"
        assert workload in templates
        if chart in SERVERS:
            assert {"service.yaml", "ingress.yaml", "networkpolicy.yaml", "pdb.yaml"} <= templates
        assert (d / "values.yaml").is_file()


# The charts that run on PostgreSQL with their database: values, and the setting those give.
DATABASE_CHARTS = {"manager", "threat-cloud"}
DATABASE_GIVEN = {chart: {"DATABASE_URL"} for chart in DATABASE_CHARTS}


def test_chart_values_match_the_binaries_defaults():
    for chart, (port, _, _) in SERVICES.items():
        values = load_all(HELM / chart / "values.yaml")[0]
        assert values["port"] == port, chart
        assert values["appEnv"] == "development" and values["logLevel"] == "info", chart
        assert values["image"]["repository"].endswith("/" + chart), chart
        assert {"cpu", "memory"} <= set(values["resources"]["limits"]), chart
        assert isinstance(values["secrets"], dict) and values["existingSecret"] == "", chart
        # Only the charts that run on PostgreSQL have a pod count, used with their database: values.
        if chart in DATABASE_CHARTS:
            assert values["replicaCount"] >= 1 and set(values["database"]) >= {"url", "existingSecret"}, chart
        else:
            assert "replicaCount" not in values and "database" not in values, chart
        assert "replicas" not in values, chart
        if chart in SERVERS:
            assert values["service"]["port"] == port, chart
            assert "persistence" in values and "ingress" in values, chart
    assert load_all(HELM / "manager" / "values.yaml")[0]["tls"]["mode"] == "self-signed"


def test_helm_templates_are_balanced_and_reference_what_exists():
    """On every branch of the templates, rendered or not (helm lint sees only the branches
    its values take, and reads a missing value as empty): every include names a define that
    exists, every .Values path used (in the chart or the library parts it includes) is in
    the chart's values.yaml."""
    lib_defines = {}
    for path in sorted((HELM / LIB_CHART / "templates").glob("*.tpl")):
        top, defines = parse_templates(path.read_text(), path)
        assert not [a for a in top if not a.startswith("/*")], f"{path}: output outside define"
        lib_defines.update(defines)
    for chart in SERVICES:
        d = HELM / chart
        values = load_all(d / "values.yaml")[0]
        chart_top, chart_defines = [], {}
        for path in sorted((d / "templates").iterdir()):
            top, defines = parse_templates(path.read_text(), path)
            chart_top += top
            assert not set(defines) & set(lib_defines), f"{path}: redefines a library template"
            chart_defines.update(defines)
        assert f"{chart}.binary" in chart_defines, f"{chart}: _helpers.tpl must define {chart}.binary"
        all_defines = {**lib_defines, **chart_defines}
        seen, todo, actions = set(), list(included_names(chart_top, chart)), list(chart_top)
        while todo:
            name = todo.pop()
            assert name in all_defines, f"{chart}: include of undefined template {name!r}"
            if name in seen:
                continue
            seen.add(name)
            actions += all_defines[name]
            todo += list(included_names(all_defines[name], chart))
        assert "platform.binary" not in seen or f"{chart}.binary" in seen
        for action in actions:
            for ref in VALUES_REF.findall(action):
                assert values_path_exists(values, ref), f"{chart}: .Values{ref} not in values.yaml"


# ----------------------------------------------------------------------------- Dockerfile

def dockerfile_instructions():
    lines, current = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        if not current and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if current and raw.lstrip().startswith("#"):
            continue
        current += raw.rstrip("\\").rstrip() + " " if raw.endswith("\\") else raw
        if not raw.endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            lines.append((word.upper(), rest.strip()))
            current = ""
    assert not current, "Dockerfile ends inside a continued line"
    return lines


def dockerfile_stages():
    stages, preamble, name = {}, [], None
    for word, rest in dockerfile_instructions():
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            name = m.group(2)
            stages[name] = {"from": m.group(1), "body": []}
        elif name is None:
            preamble.append((word, rest))
        else:
            stages[name]["body"].append((word, rest))
    return preamble, stages


def test_dockerfile_has_build_runtime_and_one_stage_per_service():
    preamble, stages = dockerfile_stages()
    assert ("ARG", "SERVICE=auth-server") in preamble
    assert ("ARG", "DEBIAN_IMAGE=debian:bookworm-slim") in preamble
    assert list(stages)[:2] == ["build", "runtime"]
    assert list(stages)[-1] == "final" and stages["final"]["from"] == "svc-${SERVICE}"
    build_runs = " ".join(r for w, r in stages["build"]["body"] if w == "RUN")
    assert "tools/bootstrap-deps.sh" in build_runs and "cmake --build" in build_runs
    assert "SERVICE" not in str(stages["build"]["body"]), "build stage must not depend on SERVICE"
    runtime = stages["runtime"]
    assert runtime["from"] == "${DEBIAN_IMAGE}"
    body = dict(runtime["body"])
    runs = " ".join(r for w, r in runtime["body"] if w == "RUN")
    for lib in ("libssl3", "libsqlite3-0", "libpq5", "libargon2-1", "libyaml-cpp0.7", "libfmt9",
                "libboost-json1.81.0", "libboost-url1.81.0", "ca-certificates"):
        assert re.search(rf"\s{re.escape(lib)}(\s|$)", runs), lib
    assert body["USER"] == "10001:10001" and body["VOLUME"] == "/data" and body["STOPSIGNAL"] == "SIGTERM"
    assert "DATA_DIR=/data" in body["ENV"]
    for svc, (port, host_env, port_env) in SERVICES.items():
        stage = stages[f"svc-{svc}"]
        assert stage["from"] == "runtime", svc
        words = [w for w, _ in stage["body"]]
        env = " ".join(r for w, r in stage["body"] if w == "ENV")
        assert f"{host_env}=0.0.0.0" in env and f"{port_env}={port}" in env, svc
        assert ("EXPOSE", str(port)) in stage["body"], svc
        assert "HEALTHCHECK" in words, svc
        entry = dict(stage["body"])["ENTRYPOINT"]
        assert f'"/usr/local/bin/{svc}"' in entry, svc
    for _, stage in stages.items():
        for word, rest in stage["body"]:
            if word == "COPY" and "--from" not in rest:
                for src in [a for a in rest.split()[:-1] if not a.startswith("--")]:
                    assert (ROOT / src).exists() or src == ".", f"COPY source {src} missing"


def test_dockerfile_run_scripts_and_healthcheck_parse_in_bash():
    for word, rest in dockerfile_instructions():
        if word == "RUN":
            script = re.sub(r"^(--\S+\s+)+", "", rest)
            out = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
            assert out.returncode == 0, f"RUN {script}: {out.stderr}"
    out = subprocess.run(["bash", "-n", str(DEPLOY / "docker" / "healthcheck.sh")], capture_output=True)
    assert out.returncode == 0
    ignore = DEPLOY / "Dockerfile.dockerignore"
    assert {"build", "data", "tools/node_modules"} <= set(ignore.read_text().split())


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status,expected", [(200, 0), (503, 1)])
def test_container_healthcheck_script(status, expected):
    handler = type("H", (_Health,), {"status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = str(server.server_address[1])
        script = str(DEPLOY / "docker" / "healthcheck.sh")
        assert subprocess.run(["bash", script, port], capture_output=True, timeout=10).returncode == expected
        # TLS mode only checks that the port accepts connections.
        assert subprocess.run(["bash", script, port, "tls"], capture_output=True, timeout=10).returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = str(s.getsockname()[1])
    assert subprocess.run(["bash", script, closed], capture_output=True, timeout=10).returncode == 1


# ----------------------------------------------------------------------------- compose

def test_compose_runs_the_four_servers_with_volumes_and_default_ports():
    compose = load_all(DEPLOY / "docker-compose.yml")[0]
    services = compose["services"]
    always_on = {name for name, s in services.items() if not s.get("profiles")}
    assert always_on == set(SERVERS)
    for name, svc in services.items():
        port = SERVICES[name][0]
        build = svc["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
        assert build["args"]["SERVICE"] == name
        assert svc["ports"] == [f"127.0.0.1:{port}:{port}"], name
        (volume,) = svc["volumes"]
        vol_name, _, mount = volume.partition(":")
        assert mount == "/data" and vol_name in compose["volumes"], name
        assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"], name
        assert "APP_ENV" in svc["environment"], name
    assert services["manager"]["environment"]["MANAGER_AUTH_TOKEN"], "manager needs a token"


# ----------------------------------------------------------------------------- systemd

def unit(path):
    sections, current = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_systemd_units_are_hardened_and_read_their_env_file():
    for svc in SERVICES:
        path = DEPLOY / "systemd" / f"{svc}.service"
        s = unit(path)["Service"]
        assert s["ExecStart"] == [f"/usr/local/bin/{svc}"], svc
        assert s["EnvironmentFile"] == [f"/etc/platform/{svc}.env"], svc
        assert s["StateDirectory"] == [svc] and f"DATA_DIR=%S/{svc}" in s["Environment"], svc
        assert s["Restart"] == ["on-failure"] and s["KillSignal"] == ["SIGTERM"], svc
        assert s.get("DynamicUser") == ["yes"] or s.get("User"), svc
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                           ("ProtectHome", "yes"), ("PrivateTmp", "yes")):
            assert s.get(key) == [value], f"{svc}: {key}"
        assert s.get("CapabilityBoundingSet") == [""], svc
        assert (DEPLOY / "systemd" / "env" / f"{svc}.env").is_file(), svc
        assert unit(path)["Install"]["WantedBy"] == ["multi-user.target"]


def test_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze missing: tools/bootstrap-deps.sh installs systemd"
    for svc in SERVICES:
        text = (DEPLOY / "systemd" / f"{svc}.service").read_text()
        # The binary is not installed here; verify everything but its presence.
        copy = tmp_path / f"{svc}.service"
        copy.write_text(re.sub(r"(?m)^ExecStart=.*$", "ExecStart=/bin/true", text))
        out = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and not out.stderr.strip(), f"{svc}: {out.stderr}"


# ----------------------------------------------------------------------------- settings
# The binaries' own `--help` is the list of settings: each is documented in
# docs/operations.md, each secret has a place among the secrets of every way to deploy, and
# each setting can be given through the Helm chart.

HELP_SETTING = re.compile(r"^  --[a-z0-9-]+ VALUE\s+\[([A-Z][A-Z0-9_]*)\] (.*)$")
# Given to shardlyn-agent by a deployment but not a setting of its --help (none left).
AGENT_EXTRA: set[str] = set()


def binary_settings(service):
    """{ENV: is_secret} from `<service> --help`, in the binary's order."""
    from conftest import binary
    out = subprocess.run([str(binary(service)), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"{service} --help: {out.stderr}"
    settings = {}
    for line in out.stdout.splitlines():
        m = HELP_SETTING.match(line)
        if m:
            assert m.group(1) not in settings, f"{service}: {m.group(1)} listed twice"
            # A renamed setting's help ends with "(formerly OLD)", after the secret mark.
            text = re.sub(r" \(formerly [A-Z0-9_, ]+\)$", "", m.group(2))
            settings[m.group(1)] = text.endswith(" (secret)")
    host_env, port_env = SERVICES[service][1:]
    assert {host_env, port_env, "DATA_DIR", "APP_ENV", "LOG_LEVEL"} <= set(settings), service
    return settings


@pytest.fixture(scope="module")
def settings():
    return {service: binary_settings(service) for service in SERVICES}


def documented_settings():
    """{ENV: marked_secret} from the tables of the "Configuration" section of operations.md."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if not cells or cells[0] in ("variable", "---"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        assert names, f"operations.md: table row without a variable: {line}"
        for name in names:
            documented[name] = "**S**" in cells[0]
    return documented


def chart_binary_text(chart):
    text = (HELM / chart / "templates" / "_helpers.tpl").read_text()
    body = text.split(f'define "{chart}.binary"', 1)[1].split("{{- end }}\n{{- end }}", 1)[0]
    return re.sub(r"\{\{.*?\}\}", "", body)


def chart_set_settings(chart):
    """Variables the chart sets itself: listen address and port, DATA_DIR, APP_ENV (appEnv),
    LOG_LEVEL (logLevel) and the binary's fixed env, read from "<chart>.binary"."""
    body = chart_binary_text(chart)
    fixed = {re.search(rf"(?m)^{key}: (\w+)$", body).group(1) for key in ("hostEnv", "portEnv")}
    env_block = re.search(r"(?m)^env:\n((?:[ \t]*\n|  .*\n)*)", body + "\n")
    if env_block:
        fixed |= set(re.findall(r"(?m)^\s+([A-Z][A-Z0-9_]*):", env_block.group(1)))
    return fixed | {"DATA_DIR", "APP_ENV", "LOG_LEVEL"}


def chart_secret_lists(chart):
    body = chart_binary_text(chart)
    keys = set()
    for field_name in ("requiredSecrets", "generatedSecrets"):
        for m in re.finditer(rf"(?m)^{field_name}: \[(.*)\]$", body):
            keys |= {k.strip() for k in m.group(1).split(",")}
    return keys


def test_help_marks_exactly_the_secret_settings(settings):
    expected = {
        "auth-server": {"JWT_SECRET", "TOTP_ENCRYPTION_KEY", "AUTH_BILLING_API_KEY", "BILLING_WEBHOOK_SECRET",
                        "AUTH_USAGE_SERVICE_TOKEN", "SMTP_PASS", "AUTH_BOOTSTRAP_ADMIN_PASSWORD"},
        "manager": {"MANAGER_AUTH_TOKEN", "DATABASE_URL"},
        "threat-cloud": {"TC_API_KEYS", "DATABASE_URL"},
        "shardlyn-api": {"SHARDLYN_JWT_SECRET", "SHARDLYN_ENCRYPTION_KEY", "SHARDLYN_GITHUB_CLIENT_SECRET",
                         "SHARDLYN_HELPSCOUT_SECRET", "SMTP_PASS"},
        "shardlyn-agent": {"SHARDLYN_REGISTER_TOKEN"},
    }
    for service, found in settings.items():
        assert {env for env, secret in found.items() if secret} == expected[service], service


def test_every_setting_is_documented_with_its_secret_mark(settings):
    documented = documented_settings()
    known = set(AGENT_EXTRA)
    for service, found in settings.items():
        for env, secret in found.items():
            assert env in documented, f"{service}: {env} missing from docs/operations.md (Configuration)"
            assert documented[env] == secret, f"{env}: **S** mark {'missing' if secret else 'wrong'}"
        known |= set(found)
    assert documented["SHARDLYN_REGISTER_TOKEN"], "the register token is a secret"
    # No stale rows: everything documented is a setting of some binary.
    assert set(documented) <= known, f"documented but no binary has it: {set(documented) - known}"


def test_every_secret_is_listed_under_secrets_in_its_chart(settings):
    for chart, found in settings.items():
        values = load_all(HELM / chart / "values.yaml")[0]
        listed, config = set(values["secrets"]), set(values.get("config") or {})
        # DATABASE_URL is given by database.url or database.existingSecret (the switch to PostgreSQL).
        secrets = {env for env, secret in found.items() if secret} - DATABASE_GIVEN.get(chart, set())
        extra = {"SHARDLYN_REGISTER_TOKEN"} if chart == "shardlyn-agent" else set()
        assert secrets | extra == listed, f"{chart}: secrets: lists {listed}, the binary's are {secrets | extra}"
        assert not secrets & config, f"{chart}: secrets under config: (a ConfigMap): {secrets & config}"
        assert chart_secret_lists(chart) <= secrets, f"{chart}: required/generated secrets that are not secrets"


def test_every_setting_can_be_rendered_by_its_chart(settings):
    # The library renders all of .Values.config into the ConfigMap and all of .Values.secrets
    # into the Secret (empty values left out), after the variables the chart sets itself.
    lib = (HELM / LIB_CHART / "templates" / "_helpers.tpl").read_text()
    _, defines = parse_templates(lib, "platform-lib/_helpers.tpl")
    config_data = " ".join(defines["platform.configData"])
    assert "(.Values.config | default dict)" in config_data and "range $key, $value := $env" in config_data
    assert "range $key, $value := .Values.secrets" in " ".join(defines["platform.secretData"])
    for chart, found in settings.items():
        values = load_all(HELM / chart / "values.yaml")[0]
        config, secrets = set(values.get("config") or {}), set(values["secrets"])
        by_chart = chart_set_settings(chart)
        extra = AGENT_EXTRA if chart == "shardlyn-agent" else set()
        # What the chart names exists in the binary (a misspelt key would be silently ignored).
        for where, keys in (("config:", config), ("secrets:", secrets), ("the chart", by_chart)):
            assert keys <= set(found) | extra, f"{chart}: {where} names unknown settings {keys - set(found) - extra}"
        for env, secret in found.items():
            if env in by_chart:
                assert not secret, f"{chart}: sets the secret {env} in its ConfigMap"
            elif env in DATABASE_GIVEN.get(chart, set()):
                assert {"url", "existingSecret"} <= set(values["database"]), f"{chart}: {env} cannot be given"
            elif secret:
                assert env in secrets, f"{chart}: secret {env} cannot be given (secrets:)"
            else:
                # Not set by the chart, so config: may set it (and is not overridden).
                assert env not in by_chart and env not in secrets, f"{chart}: {env}"
        assert extra <= by_chart | secrets, chart


def test_k8s_and_systemd_env_files_hold_known_settings_and_secrets_only_where_private(settings):
    for service, found in settings.items():
        known = set(found) | (AGENT_EXTRA if service == "shardlyn-agent" else set())
        secrets = {env for env, secret in found.items() if secret}
        # kustomize: the env file becomes a ConfigMap; secrets go to <service>-secrets.
        k8s_env = env_file(K8S / "base" / "config" / f"{service}.env")
        assert set(k8s_env) <= known, f"k8s {service}: unknown {set(k8s_env) - known}"
        assert not set(k8s_env) & secrets, f"k8s {service}: secret in a ConfigMap"
        # systemd: the 0600 env file is where secrets go: each one has its line.
        unit_env = env_file(DEPLOY / "systemd" / "env" / f"{service}.env")
        assert set(unit_env) <= known, f"systemd {service}: unknown {set(unit_env) - known}"
        assert secrets <= set(unit_env), f"systemd {service}: missing secrets {secrets - set(unit_env)}"


def test_compose_passes_every_secret_from_the_env_file(settings):
    services = load_all(DEPLOY / "docker-compose.yml")[0]["services"]
    for service, found in settings.items():
        env = services[service]["environment"]
        known = set(found) | (AGENT_EXTRA if service == "shardlyn-agent" else set())
        assert set(env) <= known, f"compose {service}: unknown {set(env) - known}"
        for secret in (e for e, s in found.items() if s):
            assert secret in env and "${" in str(env[secret]), f"compose {service}: {secret} not passed through"
