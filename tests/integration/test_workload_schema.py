"""The shardlyn/v1 JSON Schema (proto-schemas/workload.schema.json) and the C++ validator agree.

python3-jsonschema validates the same example documents as `workload-check spec` (the C++ parser
of libworkload): valid examples pass both, schema-invalid ones fail both (and C++ names the field
written on the example's first line), and the semantic examples pass the schema but fail C++,
which checks what a schema cannot say. Imported eggs and exported workloads validate too.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

SOURCE = Path(os.environ.get("PLATFORM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = Path(os.environ.get("PLATFORM_BIN_DIR", SOURCE / "build" / "bin"))
EXAMPLES = SOURCE / "tests" / "unit" / "workload" / "examples"
EGGS = sorted((SOURCE / "libs" / "workload" / "eggs").glob("*.json"))
SCHEMA = json.loads((SOURCE / "proto-schemas" / "workload.schema.json").read_text())


def schema_errors(document) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def cpp_verdicts(paths: list[Path]) -> dict[str, dict]:
    run = subprocess.run([str(BIN / "workload-check"), "spec", *map(str, paths)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode in (0, 1), run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    return {line["file"]: line for line in lines}


def load(path: Path):
    return yaml.safe_load(path.read_text())  # JSON is YAML too


def expected_field(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must say which field is wrong"
    return first.removeprefix("# expect: ").strip()


def examples(kind: str) -> list[Path]:
    found = sorted((EXAMPLES / kind).glob("*.*"))
    assert found, kind
    return found


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_valid_examples_pass_both():
    verdicts = cpp_verdicts(examples("valid"))
    for path in examples("valid"):
        assert schema_errors(load(path)) == [], path.name
        assert verdicts[str(path)]["valid"], (path.name, verdicts[str(path)]["errors"])


def test_invalid_examples_fail_both_and_cpp_names_the_field():
    verdicts = cpp_verdicts(examples("invalid"))
    for path in examples("invalid"):
        assert schema_errors(load(path)), f"the schema accepts {path.name}"
        verdict = verdicts[str(path)]
        assert not verdict["valid"], f"C++ accepts {path.name}"
        assert expected_field(path) in [e["field"] for e in verdict["errors"]], (path.name, verdict["errors"])


def test_semantic_examples_pass_the_schema_and_fail_cpp():
    verdicts = cpp_verdicts(examples("semantic"))
    for path in examples("semantic"):
        assert schema_errors(load(path)) == [], path.name
        verdict = verdicts[str(path)]
        assert not verdict["valid"], f"C++ accepts {path.name}"
        assert expected_field(path) in [e["field"] for e in verdict["errors"]], (path.name, verdict["errors"])


@pytest.mark.parametrize("egg", EGGS, ids=[e.stem for e in EGGS])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_imported_eggs_are_valid_workloads(egg: Path, fmt: str, tmp_path: Path):
    run = subprocess.run([str(BIN / "workload-check"), "egg", str(egg), fmt],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout) if fmt == "json" else yaml.safe_load(run.stdout)
    assert schema_errors(document) == []
    # The export parses again in C++.
    exported = tmp_path / f"workload.{fmt}"
    exported.write_text(run.stdout)
    assert cpp_verdicts([exported])[str(exported)]["valid"]


def test_exported_examples_validate(tmp_path: Path):
    for path in examples("valid"):
        for fmt in ("json", "yaml"):
            run = subprocess.run([str(BIN / "workload-check"), "export", str(path), fmt],
                                 capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, run.stderr
            document = json.loads(run.stdout) if fmt == "json" else yaml.safe_load(run.stdout)
            assert schema_errors(document) == [], (path.name, fmt)
            # Canonical: exporting the export changes nothing.
            again = tmp_path / f"again.{fmt}"
            again.write_text(run.stdout)
            second = subprocess.run([str(BIN / "workload-check"), "export", str(again), fmt],
                                    capture_output=True, text=True, timeout=60)
            assert second.stdout == run.stdout, (path.name, fmt)
