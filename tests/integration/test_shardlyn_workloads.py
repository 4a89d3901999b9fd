"""shardlyn-api Workload Endpoints against the real binary: shardlyn/v1 specs as JSON and YAML
(errors naming the field), export, templates, and the import of every real egg of
../shared/data/eggs/ (PTDL_v2 as shipped, and the same eggs written as PTDL_v1 and PLCN_v3), each
checked against what the egg itself says: variables and their rules, done markers, stop
command or signal, install script, images.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_workloads.py
"""
import copy
import json
import os
from pathlib import Path

import pytest
import yaml

from shardlyn_helpers import expect, expect_error, register, shardlyn, token_client  # noqa: F401 (fixture)

SOURCE = Path(os.environ.get("PLATFORM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SHARED_EGGS = SOURCE.parent / "shared" / "data" / "eggs"
EGG_DIR = SHARED_EGGS if SHARED_EGGS.is_dir() else SOURCE / "libs" / "workload" / "eggs"
EGGS = sorted(EGG_DIR.glob("*.json"))
SIGNALS = {"^C": "SIGINT", "^^C": "SIGINT"}

ECHO = {
    "apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "echo"},
    "spec": {"command": ["/bin/sh", "-c", "echo Server ready; while read l; do echo \"$l\"; done"],
             "resources": {"requests": {"cpu": 0.5, "memory": "256Mi"}},
             "stopTimeout": "5s", "startup": {"done": ["Server ready"], "timeout": "30s"},
             "stop": {"command": "quit"},
             "variables": [{"name": "Greeting", "env": "GREETING", "default": "hi", "rules": "required|string|max:10"}]},
}


@pytest.fixture(scope="module")
def world(shardlyn):
    w = type("World", (), {})()
    w.server = shardlyn
    w.alice = register(shardlyn, "alice")
    w.bob = register(shardlyn, "bob")
    return w


def post_text(account, path, text, content_type):
    return account.request("POST", path, data=text.encode(), headers={"Content-Type": content_type})


def expected_from_egg(egg: dict) -> dict:
    """What the egg says, read independently of the service."""
    config = egg["config"]
    startup = json.loads(config["startup"]) if isinstance(config["startup"], str) else config["startup"]
    done = startup.get("done", [])
    done = [done] if isinstance(done, str) else done
    stop = config["stop"]
    stop = {"signal": SIGNALS[stop]} if stop in SIGNALS else {"command": stop}
    variables = []
    for v in egg["variables"]:
        rules = v["rules"] if isinstance(v["rules"], list) else v["rules"].split("|")
        variables.append((v["env_variable"], v["default_value"], rules))
    install = egg["scripts"]["installation"]
    return {"done": done, "stop": stop, "variables": variables, "install": install}


def check_import(workload: dict, egg: dict, fmt: str):
    exp = expected_from_egg(egg)
    spec = workload["spec"]["spec"]
    assert workload["source"] == f"egg:{fmt}"
    assert workload["name"] == egg["name"]
    assert [m if not m.startswith("regex:") else m for m in spec["startup"]["done"]] == exp["done"]
    assert spec["stop"] == exp["stop"]
    got = [(v["env"], v.get("default", ""), v.get("rules", [])) for v in spec.get("variables", [])]
    assert got == [(e, d or "", r) for e, d, r in exp["variables"]]
    assert spec["install"]["script"].replace("\r\n", "\n") == exp["install"]["script"].replace("\r\n", "\n")
    assert spec["install"]["image"] == exp["install"]["container"]
    assert spec["install"]["entrypoint"] == exp["install"]["entrypoint"]
    assert spec["image"] in egg.get("docker_images", {}).values() or spec["image"] in egg.get("images", [])


def as_ptdl_v1(egg: dict) -> dict:
    old = copy.deepcopy(egg)
    old["meta"]["version"] = "PTDL_v1"
    old["images"] = list(old.pop("docker_images").values())
    old.pop("file_denylist", None)
    for v in old["variables"]:
        v.pop("field_type", None)
    return old


def as_plcn_v3(egg: dict) -> str:
    new = copy.deepcopy(egg)
    new["meta"]["version"] = "PLCN_v3"
    new["startup_commands"] = {"Default": new.pop("startup")}
    new["config"] = {k: (json.loads(v) if k != "stop" else v) for k, v in new["config"].items()}
    for v in new["variables"]:
        v["rules"] = v["rules"].split("|")
    return yaml.safe_dump(new, sort_keys=False)


@pytest.mark.parametrize("path", EGGS, ids=[p.stem for p in EGGS])
def test_every_real_egg_imports_with_its_parts(world, path):
    assert EGGS, f"no eggs in {EGG_DIR}"
    egg = json.loads(path.read_text())
    created = expect(world.alice.request("POST", "/v1/workloads/import-egg", data=path.read_bytes(),
                                         headers={"Content-Type": "application/json"}), 201)
    check_import(created, egg, egg["meta"]["version"])
    assert expect(world.alice.get(f"/v1/workloads/{created['id']}"), 200) == created
    # The same egg as an older Pterodactyl export and as a Pelican YAML export.
    v1 = as_ptdl_v1(egg)
    v1["name"] += " (v1)"
    check_import(expect(world.alice.post("/v1/workloads/import-egg", v1), 201), v1, "PTDL_v1")
    v3 = as_plcn_v3({**egg, "name": egg["name"] + " (v3)"})
    check_import(expect(post_text(world.alice, "/v1/workloads/import-egg", v3, "application/yaml"), 201),
                 {**egg, "name": egg["name"] + " (v3)"}, "PLCN_v3")
    # Importing it again under the same name is a conflict, not a second copy.
    expect_error(world.server, world.alice.request("POST", "/v1/workloads/import-egg", data=path.read_bytes(),
                                                   headers={"Content-Type": "application/json"}), 409, "exists")


def broken_egg(change):
    egg = json.loads(EGGS[0].read_text())
    change(egg)
    return egg


@pytest.mark.parametrize("change,field", [
    (lambda e: e["meta"].update(version="PTDL_v9"), "meta.version"),
    (lambda e: e.pop("meta"), "meta"),
    (lambda e: e["variables"][0].pop("env_variable"), "variables[0].env_variable"),
    (lambda e: e["config"].update(files="{not json"), "config.files"),
    (lambda e: e["config"].update(stop="^SIGNOPE"), "config.stop"),
    (lambda e: e["variables"][0].update(rules="required|frobnicate"), "variables[0].rules"),
])
def test_malformed_eggs_are_400_naming_the_field(world, change, field):
    r = world.alice.post("/v1/workloads/import-egg", broken_egg(change))
    assert field in expect_error(world.server, r, 400)


def test_an_egg_that_is_neither_json_nor_yaml_is_400(world):
    r = post_text(world.alice, "/v1/workloads/import-egg", "{{{: [", "application/json")
    assert "document" in expect_error(world.server, r, 400)


def test_a_spec_as_yaml_and_json_round_trips_through_export(world):
    doc = copy.deepcopy(ECHO)
    doc["metadata"]["name"] = "echo-yaml"
    created = expect(post_text(world.alice, "/v1/workloads", yaml.safe_dump(doc), "application/yaml"), 201)
    assert created["source"] == "spec"
    wid = created["id"]
    exported = world.alice.get(f"/v1/workloads/{wid}/export")
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("application/yaml")
    as_yaml = yaml.safe_load(exported.text)
    as_json = expect(world.alice.get(f"/v1/workloads/{wid}/export?format=json"), 200)
    assert as_yaml == as_json == created["spec"]
    assert as_json["spec"]["stop"] == {"command": "quit"}
    assert as_json["spec"]["variables"][0]["rules"] == ["required", "string", "max:10"]
    # The export is a valid spec again: it imports under another name as the same workload.
    as_json["metadata"]["name"] = "echo-again"
    again = expect(world.alice.post("/v1/workloads", as_json), 201)
    assert again["spec"]["spec"] == created["spec"]["spec"]
    expect_error(world.server, world.alice.get(f"/v1/workloads/{wid}/export?format=toml"), 400, "format")


def test_workload_crud(world):
    doc = copy.deepcopy(ECHO)
    doc["metadata"]["name"] = "echo-crud"
    w = expect(world.alice.post("/v1/workloads", doc), 201)
    listed = expect(world.alice.get("/v1/workloads?per_page=200"), 200)
    assert w["id"] in [x["id"] for x in listed["items"]]
    doc["spec"]["stopTimeout"] = "9s"
    updated = expect(world.alice.put(f"/v1/workloads/{w['id']}", doc), 200)
    assert updated["spec"]["spec"]["stopTimeout"] == "9s"
    other = copy.deepcopy(ECHO)
    other["metadata"]["name"] = "echo-crud-2"
    expect(world.alice.post("/v1/workloads", other), 201)
    expect_error(world.server, world.alice.put(f"/v1/workloads/{w['id']}", other), 409, "exists")  # name taken
    expect_error(world.server, world.alice.post("/v1/workloads", other), 409, "exists")
    expect(world.alice.delete(f"/v1/workloads/{w['id']}"), 204)
    expect_error(world.server, world.alice.get(f"/v1/workloads/{w['id']}"), 404)
    expect_error(world.server, world.alice.delete(f"/v1/workloads/{w['id']}"), 404)
    expect_error(world.server, world.alice.get("/v1/workloads/not-a-uuid"), 404)


@pytest.mark.parametrize("change,field", [
    (lambda d: d["spec"].update(stopTimeout="soon"), "spec.stopTimeout"),
    (lambda d: d["spec"].update(ports=[{"name": "game", "containerPort": 70000}]), "spec.ports[0].containerPort"),
    (lambda d: d.pop("apiVersion"), "apiVersion"),
    (lambda d: d["spec"].update(restartPolicy={"mode": "sometimes"}), "spec.restartPolicy.mode"),
    (lambda d: d["spec"]["variables"][0].update(rules="required|nonsense"), "spec.variables[0].rules"),
    (lambda d: d["spec"].update(colour="blue"), "spec.colour"),
])
def test_malformed_specs_are_400_naming_the_field(world, change, field):
    doc = copy.deepcopy(ECHO)
    change(doc)
    assert field in expect_error(world.server, world.alice.post("/v1/workloads", doc), 400)
    assert field in expect_error(world.server, post_text(world.alice, "/v1/workloads", yaml.safe_dump(doc),
                                                         "application/yaml"), 400)


def test_a_document_that_does_not_parse_is_400(world):
    r = post_text(world.alice, "/v1/workloads", "spec: [unclosed", "application/yaml")
    assert "document" in expect_error(world.server, r, 400)


def test_from_template_makes_each_shipped_egg_a_workload(world):
    for template in ["mumble-server", "nodejs-generic", "paper", "python-generic", "vanilla-minecraft"]:
        w = expect(world.bob.post("/v1/workloads/from-template", {"template": template}), 201)
        assert w["source"] == f"template:{template}"
        assert w["spec"]["spec"]["command"]
    named = expect(world.bob.post("/v1/workloads/from-template", {"template": "paper", "name": "Paper for friends"}), 201)
    assert named["name"] == "Paper for friends"
    expect_error(world.server, world.bob.post("/v1/workloads/from-template", {"template": "paper"}), 409, "exists")
    expect_error(world.server, world.bob.post("/v1/workloads/from-template", {"template": "doom"}), 404, "doom")
    expect_error(world.server, world.bob.post("/v1/workloads/from-template", {}), 400, "template")
    expect_error(world.server, world.bob.post("/v1/workloads/from-template", {"template": "paper", "x": 1}), 400, "x")


def test_another_organisations_workload_is_404_and_missing_permissions_403(world):
    doc = copy.deepcopy(ECHO)
    doc["metadata"]["name"] = "echo-private"
    w = expect(world.alice.post("/v1/workloads", doc), 201)
    for method, path in [("GET", f"/v1/workloads/{w['id']}"), ("GET", f"/v1/workloads/{w['id']}/export"),
                         ("DELETE", f"/v1/workloads/{w['id']}")]:
        expect_error(world.server, world.bob.request(method, path), 404)
    expect_error(world.server, world.bob.put(f"/v1/workloads/{w['id']}", doc), 404)
    assert w["id"] not in [x["id"] for x in expect(world.bob.get("/v1/workloads?per_page=200"), 200)["items"]]
    reader = token_client(world.server, world.alice.api_token(permissions=["workloads.read"])["token"])
    expect(reader.get(f"/v1/workloads/{w['id']}"), 200)
    doc["metadata"]["name"] = "by-a-reader"
    expect_error(world.server, reader.post("/v1/workloads", doc), 403)
    expect_error(world.server, reader.post("/v1/workloads/from-template", {"template": "paper"}), 403)
    expect_error(world.server, reader.request("DELETE", f"/v1/workloads/{w['id']}"), 403)
    expect_error(world.server, world.server.request("GET", "/v1/workloads"), 401)
