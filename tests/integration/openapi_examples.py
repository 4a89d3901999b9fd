"""The machinery of test_openapi_examples.py: send an operation's documented example request to
a running service and check the answer against the document (not a test module itself).

How an example request is built from the document:
- path, query and header parameters: each parameter's `example`, valid for its schema (a path parameter must have
  one; query and header parameters are sent only when they have one);
- body: `requestBody.content[<type>].example`, sent with that content type (an object example of
  a form body is form-encoded).

Fictional ids. Examples use fixed, realistic ids and tokens (module constants such as ORG in the
scenarios). A scenario step that creates something names, in `bind`, the places of its response
where the documented example carries such a value (`{"id": ORG}`: the example's `id` is ORG).
The run checks that the example really says so and binds ORG to the value the service answered.
Before each request every string of the path parameters, query, headers and body that equals a
bound example value is replaced by the real one. Values the API never returns (a mailed token,
the current TOTP code) are bound by the step's `before` hook.

What an answer must satisfy: the status the step expects (default: the operation's lowest
documented 2xx/3xx status); the documented response for that status has an example for the
answer's media type; the answer's body and that example both validate against the response's
schema (JSON Schema 2020-12, `$ref`s resolved in the document); and, for JSON objects, the
answer has exactly the example's keys at the top level, in an envelope's `data`, and in the
first element of a list (`items`, `data`), so the example shows the real shape. A step says
`shape=False` where an object is a map whose keys depend on the data.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode
from dataclasses import dataclass, field
from typing import Callable

import jsonschema

METHODS = ("get", "put", "post", "delete", "patch")


@dataclass
class Step:
    """One operation of a scenario: who sends its example request and what it must answer."""
    op: str                      # operationId
    actor: str | None = None     # key of Run.actors (None: no credentials)
    status: int | None = None    # expected status (default: lowest documented 2xx/3xx)
    bind: dict = field(default_factory=dict)  # response path ("id", "data.key.id") -> example value
    before: Callable | None = None  # before(run): bind values the API does not return
    after: Callable | None = None   # after(run, response): remember tokens, secrets, actors
    shape: bool = True           # compare the answer's keys with the example's
    stream: bool = False         # a stream: read the first event only
    headers: dict = field(default_factory=dict)  # extra request headers (e.g. If-None-Match)


def operations(doc: dict) -> dict:
    """operationId -> (METHOD, path, operation object, path-level parameters)."""
    out = {}
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            assert "operationId" in op, f"{method.upper()} {path} has no operationId"
            out[op["operationId"]] = (method.upper(), path, op, item.get("parameters", []))
    return out


def resolve(doc: dict, node):
    """Follows local $refs ("#/components/...") until a node without one."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node, seen = target, seen + 1
    return node


def base_type(media: str) -> str:
    return media.split(";")[0].strip().lower()


def lookup(value, path: str):
    """value at a dotted path ("data.items.0.id"); KeyError/IndexError when absent."""
    for part in path.split(".") if path else []:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def substitute(value, bindings: dict):
    if isinstance(value, str):
        return bindings.get(value, value)
    if isinstance(value, list):
        return [substitute(v, bindings) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, bindings) for k, v in value.items()}
    return value


class Run:
    """A scenario in progress against one running service."""

    def __init__(self, server, doc: dict):
        self.server, self.doc = server, doc
        self.ops = operations(doc)
        self.bindings: dict = {}
        self.actors: dict = {None: {}}
        self.memory: dict = {}
        self.done: list = []
        self.format_checker = jsonschema.FormatChecker()

    # -- building the request ------------------------------------------------------------------
    def bind(self, example_value: str, real_value) -> None:
        assert isinstance(example_value, str) and example_value, example_value
        self.bindings[example_value] = str(real_value) if not isinstance(real_value, str) else real_value

    def parameters(self, op_id: str) -> list:
        _, _, op, shared = self.ops[op_id]
        by_key = {}
        for p in [*shared, *op.get("parameters", [])]:
            p = resolve(self.doc, p)
            by_key[(p["in"], p["name"])] = p
        return list(by_key.values())

    def request_example(self, op_id: str):
        """(method, path, query, headers, body bytes or None, content type) from the document."""
        method, path, op, _ = self.ops[op_id]
        query, headers = {}, {}
        for p in self.parameters(op_id):
            has = "example" in p
            if has:
                self.validate(p.get("schema", {}), p["example"], f"{op_id} parameter {p['name']} example")
            if p["in"] == "path":
                assert has, f"{op_id}: path parameter {p['name']} has no example"
                path = path.replace("{" + p["name"] + "}", str(substitute(p["example"], self.bindings)))
            elif has and p["in"] == "query":
                query[p["name"]] = substitute(p["example"], self.bindings)
            elif has and p["in"] == "header":
                headers[p["name"]] = str(substitute(p["example"], self.bindings))
        body, content_type = None, None
        request_body = resolve(self.doc, op.get("requestBody"))
        if request_body:
            content = request_body.get("content", {})
            assert content, f"{op_id}: requestBody without content"
            content_type, media = next(iter(content.items()))
            assert "example" in media, f"{op_id}: the request body ({content_type}) has no example"
            self.validate(media.get("schema", {}), media["example"], f"{op_id} request example")
            example = substitute(media["example"], self.bindings)
            if base_type(content_type).endswith("json"):
                body = json.dumps(example).encode()
            elif base_type(content_type) == "application/x-www-form-urlencoded" and isinstance(example, dict):
                body = urlencode(example).encode()
            else:
                body = example.encode() if isinstance(example, str) else example
        return method, path, query, headers, body, content_type

    # -- checking the answer -------------------------------------------------------------------
    def validate(self, schema: dict, instance, what: str) -> None:
        validator = jsonschema.Draft202012Validator(
            schema, resolver=jsonschema.RefResolver.from_schema(self.doc), format_checker=self.format_checker)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, f"{what} does not match its schema: " + "; ".join(
            f"at /{'/'.join(str(x) for x in e.path)}: {e.message[:300]}" for e in errors[:5])

    def expected_status(self, step: Step) -> int:
        if step.status:
            return step.status
        _, _, op, _ = self.ops[step.op]
        ok = sorted(int(s) for s in op["responses"] if s[0] in "23" and s.isdigit())
        assert ok, f"{step.op} documents no success status"
        return ok[0]

    def response_example(self, op_id: str, status: int, media_type: str | None):
        """(media key, media object) of the documented response, or (None, None) without content."""
        _, _, op, _ = self.ops[op_id]
        response = resolve(self.doc, op["responses"].get(str(status)))
        assert response is not None, f"{op_id}: status {status} is not documented"
        content = response.get("content") or {}
        if not content:
            return None, None
        if media_type is None:
            key = next(iter(content))
        else:
            matches = [k for k in content if base_type(k) == base_type(media_type)]
            assert matches, f"{op_id} {status}: answered {media_type}, documented {list(content)}"
            key = matches[0]
        media = content[key]
        assert "example" in media, f"{op_id}: the {status} response ({key}) has no example"
        return key, media

    def check_shape(self, op_id: str, real, example) -> None:
        def keys(where, a, b):
            if isinstance(a, dict) and isinstance(b, dict):
                assert set(a) == set(b), (f"{op_id}: {where or 'top level'} keys {sorted(a)} differ from the "
                                          f"example's {sorted(b)}")
                return True
            return False

        def level(where, a, b):
            keys(where, a, b)
            if isinstance(a, list) and isinstance(b, list) and a and b:
                keys(where + "[0]", a[0], b[0])

        level("", real, example)
        if isinstance(real, dict) and isinstance(example, dict):
            for name in ("data", "items"):
                if name in real and name in example:
                    level(name, real[name], example[name])
                    inner_a, inner_b = real[name], example[name]
                    if isinstance(inner_a, dict) and isinstance(inner_b, dict):
                        for sub in ("items", "data"):
                            if sub in inner_a and sub in inner_b:
                                level(f"{name}.{sub}", inner_a[sub], inner_b[sub])

    def body_of(self, response, stream: bool):
        if not stream:
            return response.content
        data = b""
        for chunk in response.iter_content(chunk_size=None):
            data += chunk
            if b"\n\n" in data or len(data) > 65536:
                break
        response.close()
        return data

    def send(self, step: Step):
        assert step.op in self.ops, f"{step.op} is not an operation of the document"
        if step.before:
            step.before(self)
        method, path, query, headers, body, content_type = self.request_example(step.op)
        headers = {**headers, **self.actors[step.actor], **step.headers}
        if content_type:
            headers["Content-Type"] = content_type
        response = self.server.request(method, path, params=query, data=body, headers=headers,
                                       allow_redirects=False, stream=step.stream)
        raw = self.body_of(response, step.stream)
        return response, raw

    def run(self, step: Step):
        response, raw = self.send(step)
        status = self.expected_status(step)
        where = f"{step.op} ({response.request.method} {response.request.path_url})"
        assert response.status_code == status, (f"{where}: answered {response.status_code}, expected {status}: "
                                                f"{raw[:600]!r}")
        media_type = response.headers.get("Content-Type") if raw else None
        key, media = self.response_example(step.op, status, media_type)
        if media is None:
            assert not raw or status in (301, 302, 303, 307, 308), f"{where}: undocumented body {raw[:200]!r}"
            value = None
        else:
            schema = media.get("schema", {})
            self.validate(schema, media["example"], f"{step.op} {status} example")
            if base_type(key).endswith("json"):
                value = json.loads(raw)
                if step.shape:
                    self.check_shape(step.op, value, media["example"])
            elif schema.get("format") == "binary":
                value = raw  # bytes: the schema says no more than that
            else:
                value = raw.decode()
            if not isinstance(value, bytes):
                self.validate(schema, value, f"{where} answer")
        for place, example_value in step.bind.items():
            assert media is not None, f"{step.op}: bind without a documented body"
            documented = lookup(media["example"], place)
            assert documented == example_value, (f"{step.op}: the example's {place} is {documented!r}, "
                                                 f"the scenario binds {example_value!r}")
            self.bind(example_value, lookup(value, place))
        if step.after:
            step.after(self, value)
        self.done.append(step.op)
        return value
