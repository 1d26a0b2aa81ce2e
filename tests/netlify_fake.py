"""A local stand-in for Netlify's API that checks every request against the OpenAPI description.

`FakeNetlify` serves on 127.0.0.1 from a thread and answers like Netlify for the operations
the stack uses (sites, file-digest deploys, the site certificate), keeping state in memory.
Every request is matched against Netlify's description, `tests/data/netlify/netlify-openapi.yml`
(another path can be given): the path and method must be described, every query parameter declared and of
its type, required ones present, and the body must match the operation's body schema. The
checker is stricter than JSON Schema in one way: an object schema that lists `properties`
accepts no other keys, so a misspelt field fails instead of being ignored. A request the
description does not allow is recorded in `violations` and answered with HTTP 400; the
`netlify` fixtures assert that list is empty, so such a request fails the test.

Every answer is also checked against the operation's response schema, so the fake cannot
drift from what the description promises either.

Errors to inject: a wrong token gets 401; `fail_next(operation_id, status)` answers the next
call(s) with an error; `answer_next(operation_id, status, body)` answers with raw bytes made
from the request's Authorization header (a hostile API or proxy that echoes it, in any
encoding, at any length); `rate_limit_next(operation_id)` answers 429 with Retry-After;
`dns_points` (False until a test sets it, or `dns_points_after(n)` flips it) makes POST
/sites/{id}/ssl answer 422 "bad dns for custom domain", as Netlify does before the A record
resolves to it.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

# Netlify's own description, kept in the repository with its licence (tests/data/netlify/NOTICE.md).
SPEC_PATH = Path(__file__).with_name("data") / "netlify" / "netlify-openapi.yml"
HEX40 = re.compile(r"^[0-9a-f]{40}$")


class SpecViolation(Exception):
    """A request (or a fake answer) the OpenAPI description does not allow."""


# --- The description ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    parameters: tuple[dict[str, Any], ...]
    consumes: tuple[str, ...]
    responses: dict[str, Any]


@dataclass(frozen=True)
class Route:
    operation: Operation
    path_params: dict[str, str]


class OpenApiSpec:
    """The parts of a Swagger 2.0 document needed to judge requests and answers."""

    def __init__(self, path: Path) -> None:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        assert self.document.get("swagger") == "2.0", "expected a Swagger 2.0 description"
        self.base_path: str = self.document.get("basePath", "")
        self.definitions: dict[str, Any] = self.document.get("definitions", {})
        self.operations: list[Operation] = []
        default_consumes = tuple(self.document.get("consumes", ()))
        for template, item in self.document["paths"].items():
            shared = tuple(self.resolve(p) for p in item.get("parameters", ()))
            for method, op in item.items():
                if method == "parameters":
                    continue
                own = tuple(self.resolve(p) for p in op.get("parameters", ()))
                names = {(p["name"], p["in"]) for p in own}
                merged = own + tuple(p for p in shared if (p["name"], p["in"]) not in names)
                self.operations.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        operation_id=op.get("operationId", f"{method} {template}"),
                        parameters=merged,
                        consumes=tuple(op.get("consumes", default_consumes)),
                        responses=op.get("responses", {}),
                    )
                )

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            pointer = node["$ref"]
            assert pointer.startswith("#/"), pointer
            target: Any = self.document
            for part in pointer[2:].split("/"):
                target = target[part]
            node = target
        return node

    def route(self, method: str, path: str) -> Route:
        if not path.startswith(self.base_path + "/"):
            raise SpecViolation(f"{method} {path}: outside basePath {self.base_path}")
        relative = path[len(self.base_path) :]
        segments = relative.split("/")
        candidates: list[tuple[int, Route]] = []
        for operation in self.operations:
            params = _match(operation.template, segments)
            if params is not None:
                literals = sum(1 for part in operation.template.split("/") if not part.startswith("{"))
                candidates.append((literals, Route(operation, params)))
        if not candidates:
            raise SpecViolation(f"{method} {relative}: no path in the description matches")
        best = max(literal for literal, _ in candidates)
        for literal, route in candidates:
            if literal == best and route.operation.method == method:
                return route
        allowed = sorted({r.operation.method for lit, r in candidates if lit == best})
        raise SpecViolation(f"{method} {relative}: the description allows only {allowed} on this path")

    def check_request(self, route: Route, query: dict[str, list[str]], body: bytes, content_type: str) -> Any:
        """Raise SpecViolation unless the request fits the operation; return the parsed body."""
        op = route.operation
        where = f"{op.method} {op.template} ({op.operation_id})"
        declared = {p["name"]: p for p in op.parameters if p["in"] == "query"}
        for name, values in query.items():
            if name not in declared:
                raise SpecViolation(f"{where}: query parameter {name!r} is not described")
            for value in values:
                _check_scalar(declared[name], value, f"{where}: query {name}")
        for name, param in declared.items():
            if param.get("required") and name not in query:
                raise SpecViolation(f"{where}: required query parameter {name!r} is missing")
        for param in op.parameters:
            if param["in"] == "path" and param.get("required") and not route.path_params.get(param["name"]):
                raise SpecViolation(f"{where}: path parameter {param['name']!r} is missing")
        body_params = [p for p in op.parameters if p["in"] == "body"]
        if not body_params:
            if body:
                raise SpecViolation(f"{where}: takes no body, got {len(body)} bytes")
            return None
        param = body_params[0]
        if not body:
            if param.get("required"):
                raise SpecViolation(f"{where}: body {param['name']!r} is required")
            return None
        media = content_type.split(";")[0].strip().lower()
        if media not in op.consumes:
            raise SpecViolation(f"{where}: Content-Type {media!r} is not one of {list(op.consumes)}")
        schema = self.resolve(param["schema"])
        if schema.get("type") == "string" and schema.get("format") == "binary":
            return body
        try:
            value = json.loads(body)
        except ValueError as error:
            raise SpecViolation(f"{where}: body is not JSON: {error}") from None
        problems = self.validate(schema, value, "body")
        if problems:
            raise SpecViolation(f"{where}: " + "; ".join(problems))
        return value

    def check_response(self, route: Route, status: int, payload: Any) -> None:
        op = route.operation
        spec = op.responses.get(str(status)) or op.responses.get("default")
        if spec is None:
            raise SpecViolation(f"fake answered {op.operation_id} with undescribed status {status}")
        spec = self.resolve(spec)
        if "schema" in spec and payload is not None:
            problems = self.validate(spec["schema"], payload, "response")
            if problems:
                raise SpecViolation(f"fake answer to {op.operation_id} breaks the description: {problems}")

    def validate(self, schema: dict[str, Any], value: Any, where: str) -> list[str]:
        schema = self.resolve(schema)
        problems: list[str] = []
        if "allOf" in schema:
            parts = [self.resolve(part) for part in schema["allOf"]]
            known: set[str] = set()
            for part in parts:
                known.update(part.get("properties", {}))
                loose = {k: v for k, v in part.items() if k != "properties"}
                loose["properties"] = part.get("properties", {})
                loose["additionalProperties"] = True
                problems += self.validate(loose, value, where)
            if isinstance(value, dict):
                problems += [f"{where}.{key}: not described" for key in value if key not in known]
            return problems
        kind = schema.get("type") or ("object" if "properties" in schema else None)
        if value is None:
            return [] if schema.get("x-nullable", True) is not False else [f"{where}: must not be null"]
        if kind and not _is_type(value, kind):
            return [f"{where}: expected {kind}, got {type(value).__name__}"]
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{where}: {value!r} not in {schema['enum']}")
        if kind == "object" and isinstance(value, dict):
            properties = schema.get("properties", {})
            for key in schema.get("required", ()):
                if key not in value:
                    problems.append(f"{where}.{key}: required")
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in properties:
                    problems += self.validate(properties[key], item, f"{where}.{key}")
                elif isinstance(extra, dict):
                    problems += self.validate(extra, item, f"{where}.{key}")
                elif properties and extra is not True:
                    problems.append(f"{where}.{key}: not described")
        if kind == "array" and isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                problems += self.validate(schema["items"], item, f"{where}[{index}]")
        return problems


@functools.cache
def load_spec(path: Path) -> OpenApiSpec:
    """Parse the description once per test run; OpenApiSpec is never mutated."""
    return OpenApiSpec(path)


def _match(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = template.split("/")
    # Only a trailing file path may span slashes (PUT /deploys/{deploy_id}/files/{path}); Swagger
    # 2.0 cannot say so, and letting every trailing id span would route /sites/x/bogus to getSite.
    spans = parts[-1] in ("{path}", "{file_path}")
    if len(segments) < len(parts) or (len(segments) > len(parts) and not spans):
        return None
    params: dict[str, str] = {}
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part.startswith("{") and part.endswith("}"):
            value = "/".join(segments[index:]) if last and spans else segments[index]
            if not value:
                return None
            params[part[1:-1]] = unquote(value)
        elif part != segments[index]:
            return None
    return params


def _is_type(value: Any, kind: str) -> bool:
    checks: dict[str, Any] = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    }
    return bool(checks.get(kind, lambda v: True)(value))


def _check_scalar(param: dict[str, Any], raw: str, where: str) -> None:
    kind = param.get("type", "string")
    if kind == "boolean" and raw not in ("true", "false"):
        raise SpecViolation(f"{where}: {raw!r} is not a boolean")
    if kind == "integer" and not re.fullmatch(r"-?\d+", raw):
        raise SpecViolation(f"{where}: {raw!r} is not an integer")
    if "enum" in param and raw not in param["enum"]:
        raise SpecViolation(f"{where}: {raw!r} not in {param['enum']}")


# --- The fake ---------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    operation_id: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class _Injected:
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    raw: Callable[[str], bytes] | None = None  # the body, from the Authorization header
    content_type: str = "application/json"


@dataclass(frozen=True)
class RawBody:
    data: bytes
    content_type: str


class FakeNetlify:
    """In-memory Netlify. Use as a context manager; `base_url` is what the client needs."""

    def __init__(self, token: str = "fake-netlify-token", spec_path: Path | None = None) -> None:
        self.token = token
        self.spec = load_spec(spec_path or SPEC_PATH)
        self.sites: dict[str, dict[str, Any]] = {}
        self.deploys: dict[str, dict[str, Any]] = {}
        self.blobs: dict[str, bytes] = {}
        self.certificates: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.dns_points = False
        self.bad_dns_answers_left: int | None = None
        self.polls_before_ready = 1
        self._injected: dict[str, list[_Injected]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # Lifecycle and inspection ---------------------------------------------------------------

    def __enter__(self) -> FakeNetlify:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{self.spec.base_path}"

    def calls(self, operation_id: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.operation_id == operation_id]

    def served(self, site_id: str) -> dict[str, bytes]:
        """What the site's published deploy serves, path → content."""
        deploy_id = self.sites[site_id].get("published_deploy_id")
        if not deploy_id:
            return {}
        files = self.deploys[deploy_id]["files"]
        return {path: self.blobs[sha] for path, sha in files.items()}

    def dns_points_after(self, answers: int) -> None:
        """DNS starts pointing at Netlify after `answers` more 'bad dns' answers to POST /ssl."""
        self.dns_points = False
        self.bad_dns_answers_left = answers

    def fail_next(self, operation_id: str, status: int, message: str = "injected", times: int = 1) -> None:
        self._injected.setdefault(operation_id, []).extend(_Injected(status, message) for _ in range(times))

    def answer_next(
        self,
        operation_id: str,
        status: int,
        body: Callable[[str], bytes],
        content_type: str = "application/json",
    ) -> None:
        """Answer the next call with `body(authorization_header)` as it is, whatever it holds."""
        self._injected.setdefault(operation_id, []).append(
            _Injected(status, "", raw=body, content_type=content_type)
        )

    def rate_limit_next(self, operation_id: str, retry_after: str = "1", times: int = 1) -> None:
        self._injected.setdefault(operation_id, []).extend(
            _Injected(429, "Rate limit exceeded", {"Retry-After": retry_after}) for _ in range(times)
        )

    # Request handling -----------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload, headers = fake._dispatch(
                    self.command, self.path, dict(self.headers.items()), body
                )
                content_type = "application/json"
                if isinstance(payload, RawBody):
                    data, content_type = payload.data, payload.content_type
                else:
                    data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        return Handler

    def _dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        split = urlsplit(raw_path)
        query = parse_qs(split.query, keep_blank_values=True)
        with self._lock:
            try:
                route = self.spec.route(method, split.path)
                parsed = self.spec.check_request(route, query, body, headers.get("Content-Type", ""))
            except SpecViolation as violation:
                self.violations.append(str(violation))
                self.requests.append(RecordedRequest(method, split.path, "", query, body, headers))
                return 400, {"code": 400, "message": f"spec violation: {violation}"}, {}
            op = route.operation.operation_id
            self.requests.append(RecordedRequest(method, split.path, op, query, parsed, headers))
            if headers.get("Authorization") != f"Bearer {self.token}":
                return 401, {"code": 401, "message": "Access Denied: Invalid token"}, {}
            queue = self._injected.get(op)
            if queue:
                injected = queue.pop(0)
                if injected.raw is not None:
                    raw = injected.raw(headers.get("Authorization", ""))
                    return injected.status, RawBody(raw, injected.content_type), injected.headers
                return (
                    injected.status,
                    {"code": injected.status, "message": injected.message},
                    injected.headers,
                )
            handler = getattr(self, f"_op_{op}", None)
            if handler is None:
                self.violations.append(f"fake does not implement {op} ({method} {split.path})")
                return 501, {"code": 501, "message": f"fake does not implement {op}"}, {}
            status, payload = handler(route.path_params, parsed)
            try:
                self.spec.check_response(route, status, payload)
            except SpecViolation as violation:
                self.violations.append(str(violation))
            return status, payload, {}

    # Operations -----------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08x}"

    def _site_json(self, site: dict[str, Any]) -> dict[str, Any]:
        host = site["custom_domain"] or f"{site['name']}.netlify.app"
        out = {
            "id": site["id"],
            "name": site["name"],
            "custom_domain": site["custom_domain"],
            "domain_aliases": list(site["domain_aliases"]),
            "url": f"http://{host}",
            "ssl_url": f"https://{host}",
            "ssl": site["id"] in self.certificates,
        }
        if site.get("published_deploy_id"):
            out["published_deploy"] = self._deploy_json(self.deploys[site["published_deploy_id"]])
        return out

    def _deploy_json(self, deploy: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": deploy["id"],
            "site_id": deploy["site_id"],
            "state": deploy["state"],
            "required": sorted(deploy["required"]),
        }

    def _not_found(self) -> tuple[int, Any]:
        return 404, {"code": 404, "message": "Not Found"}

    def _op_createSite(self, _params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        name = body.get("name") or f"fake-site-{next(self._ids)}"
        if any(site["name"] == name for site in self.sites.values()):
            return 422, {"code": 422, "message": "name: already exists"}
        site_id = self._new_id("site-")
        self.sites[site_id] = {
            "id": site_id,
            "name": name,
            "custom_domain": body.get("custom_domain") or "",
            "domain_aliases": body.get("domain_aliases") or [],
        }
        return 201, self._site_json(self.sites[site_id])

    def _op_getSite(self, params: dict[str, str], _body: Any) -> tuple[int, Any]:
        site = self.sites.get(params["site_id"])
        return (200, self._site_json(site)) if site else self._not_found()

    def _op_updateSite(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        site = self.sites.get(params["site_id"])
        if not site:
            return self._not_found()
        for key in ("name", "custom_domain", "domain_aliases"):
            if key in body:
                site[key] = body[key]
        return 200, self._site_json(site)

    def _op_deleteSite(self, params: dict[str, str], _body: Any) -> tuple[int, Any]:
        if self.sites.pop(params["site_id"], None) is None:
            return self._not_found()
        self.certificates.pop(params["site_id"], None)
        return 204, None

    def _op_createSiteDeploy(self, params: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        site_id = params["site_id"]
        if site_id not in self.sites:
            return self._not_found()
        files = body.get("files")
        if not isinstance(files, dict):
            return 422, {"code": 422, "message": "files: a file-digest deploy needs a files map"}
        for path, sha in files.items():
            if not path.startswith("/") or not isinstance(sha, str) or not HEX40.match(sha):
                return 422, {"code": 422, "message": f"files: bad entry {path!r}: {sha!r}"}
        deploy_id = self._new_id("deploy-")
        self.deploys[deploy_id] = {
            "id": deploy_id,
            "site_id": site_id,
            "files": dict(files),
            "required": {sha for sha in files.values() if sha not in self.blobs},
            "state": "uploading",
            "polls": 0,
        }
        self._advance(self.deploys[deploy_id], polled=False)
        return 200, self._deploy_json(self.deploys[deploy_id])

    def _op_uploadDeployFile(self, params: dict[str, str], body: bytes) -> tuple[int, Any]:
        deploy = self.deploys.get(params["deploy_id"])
        if not deploy:
            return self._not_found()
        path = "/" + params["path"].lstrip("/")
        sha = deploy["files"].get(path)
        if sha is None:
            return 422, {"code": 422, "message": f"{path} is not part of this deploy"}
        if hashlib.sha1(body).hexdigest() != sha:
            return 422, {"code": 422, "message": f"{path}: content does not match its digest"}
        self.blobs[sha] = body
        deploy["required"].discard(sha)
        self._advance(deploy, polled=False)
        return 200, {"id": sha, "path": path, "sha": sha, "size": len(body)}

    def _op_getDeploy(self, params: dict[str, str], _body: Any) -> tuple[int, Any]:
        deploy = self.deploys.get(params["deploy_id"])
        if not deploy:
            return self._not_found()
        self._advance(deploy, polled=True)
        return 200, self._deploy_json(deploy)

    def _advance(self, deploy: dict[str, Any], *, polled: bool) -> None:
        if deploy["state"] == "uploading" and not deploy["required"]:
            deploy["state"] = "processing"
        elif deploy["state"] == "processing" and polled:
            deploy["polls"] += 1
            if deploy["polls"] >= self.polls_before_ready:
                deploy["state"] = "ready"
                site = self.sites.get(deploy["site_id"])
                if site is not None:
                    site["published_deploy_id"] = deploy["id"]

    def _op_showSiteTLSCertificate(self, params: dict[str, str], _body: Any) -> tuple[int, Any]:
        certificate = self.certificates.get(params["site_id"])
        return (200, certificate) if certificate else self._not_found()

    def _op_provisionSiteTLSCertificate(self, params: dict[str, str], _body: Any) -> tuple[int, Any]:
        site = self.sites.get(params["site_id"])
        if not site:
            return self._not_found()
        if not site["custom_domain"]:
            return 422, {"code": 422, "message": "No custom domain configured"}
        if site["id"] in self.certificates:
            return 422, {
                "code": 422,
                "message": "certificate parameter is required when updating an existing certificate",
            }
        if not self.dns_points and self.bad_dns_answers_left is not None:
            if self.bad_dns_answers_left <= 0:
                self.dns_points = True
            self.bad_dns_answers_left -= 1
        if not self.dns_points:
            return 422, {"code": 422, "message": "bad dns for custom domain"}
        self.certificates[site["id"]] = {
            "state": "issued",
            "domains": [site["custom_domain"]],
            "created_at": "2026-11-29T00:00:00Z",
            "expires_at": "2027-02-27T00:00:00Z",
        }
        return 200, self.certificates[site["id"]]
