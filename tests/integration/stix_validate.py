"""Validates STIX 2.1 JSON against the OASIS JSON schemas in ../shared/data/stix2/schemas.

Used by the threat-cloud tests in process when this interpreter has `jsonschema`, else run as a
script by another interpreter that has it:  python3 stix_validate.py SCHEMA_DIR SCHEMA FILE
(SCHEMA is a path below SCHEMA_DIR such as common/bundle.json); exit 0 when valid, 1 with the
errors on stdout when not.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def errors(schema_dir: Path, schema: str, document) -> list[str]:
    import jsonschema

    schemas = {}
    for path in sorted(schema_dir.rglob("*.json")):
        contents = json.loads(path.read_text())
        schemas[contents["$id"]] = contents
    root = json.loads((schema_dir / schema).read_text())
    try:  # jsonschema >= 4.18 resolves $ref through `referencing`
        from referencing import Registry, Resource
        registry = Registry().with_resources((uri, Resource.from_contents(c)) for uri, c in schemas.items())
        validator = jsonschema.Draft202012Validator(root, registry=registry)
    except ImportError:  # Debian bookworm's python3-jsonschema (4.10)
        resolver = jsonschema.RefResolver.from_schema(root, store=schemas)
        validator = jsonschema.Draft202012Validator(root, resolver=resolver)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


if __name__ == "__main__":
    found = errors(Path(sys.argv[1]), sys.argv[2], json.loads(Path(sys.argv[3]).read_text()))
    for line in found:
        print(line)
    sys.exit(1 if found else 0)
