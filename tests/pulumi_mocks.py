"""Run the real Pulumi program under `pulumi.runtime.set_mocks` and record what it registers.

The mocks answer like the providers do for the few computed outputs the program reads
(ids, URLs, the zone lookup); everything else is echoed, so tests assert what the program
*decided* (names, types, values, dependencies), never what the mock made up.
"""

from __future__ import annotations

import json
import logging
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, settings
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOOKED_UP_ZONE_ID = "0123456789abcdef0123456789abcdef"


@dataclass
class Registered:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent: str
    dependencies: set[str]
    retain_on_delete: bool
    import_id: str


@dataclass
class StackRun:
    resources: list[Registered]
    exports: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]]
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.type == type_]

    def named(self, name: str) -> Registered:
        matches = [resource for resource in self.resources if resource.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {len(matches)}"
        return matches[0]

    def by_urn(self, urn: str) -> Registered:
        return next(resource for resource in self.resources if resource.urn == urn)

    def dns_records(self) -> list[Registered]:
        return self.of_type("cloudflare:index/dnsRecord:DnsRecord")


class WarningLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings.append(record.getMessage())


class ProviderLikeMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == "github:index/repository:Repository":
            outputs["htmlUrl"] = f"https://github.com/example-owner/{args.inputs['name']}"
        elif args.typ == "github:index/repositoryFile:RepositoryFile":
            outputs["commitSha"] = f"sha-of-{args.inputs['file']}"
        elif args.typ == "github:index/repositoryPages:RepositoryPages":
            outputs["htmlUrl"] = f"https://{args.inputs.get('cname')}/"
        elif args.typ.startswith("pulumi-python:dynamic/netlify:Site"):
            outputs.update(site_id="netlify-site-id", deploy_id="netlify-deploy-id")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "cloudflare:index/getZone:getZone":
            return {"id": LOOKED_UP_ZONE_ID, "zoneId": LOOKED_UP_ZONE_ID, "name": args.args["filter"]["name"]}
        return {}


class RecordingMonitor(mocks.MockMonitor):
    """Keeps what the mock monitor drops: parents, dependencies and resource options."""

    def __init__(self, mocks_: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks_)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(
                Registered(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=dict(pulumi.runtime.rpc.deserialize_properties(request.object)),
                    parent=request.parent,
                    dependencies=set(request.dependencies),
                    retain_on_delete=bool(request.retainOnDelete),
                    import_id=request.importId,
                )
            )
        return response


def config_for(values: dict[str, Any]) -> dict[str, str]:
    """Stack config as the engine passes it: namespaced keys, lists and numbers as JSON."""
    return {
        f"mta-sts:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }


def run_program(values: dict[str, Any], *, preview: bool = False) -> StackRun:
    """Run __main__.py with the given `mta-sts:*` config; raise what the program raises."""
    provider_mocks = ProviderLikeMocks()
    monitor = RecordingMonitor(provider_mocks)
    # The mock engine logs to the root logger (the `logger` argument of set_mocks is not
    # the one pulumi.log reaches once the runtime is configured), so listen there.
    log = WarningLog()
    logger = logging.getLogger()
    logger.addHandler(log)
    runtime_config.set_all_config(config_for(values), secret_keys=["mta-sts:netlifyToken"])
    pulumi.runtime.set_mocks(
        provider_mocks, project="mta-sts", stack="test", preview=preview, monitor=monitor
    )
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()

    def program() -> None:
        runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")

    try:
        mocks._sync_await(run_pulumi_func(program))
    finally:
        logger.removeHandler(log)
    root = get_root_resource()
    exports = {
        key: mocks._sync_await(pulumi.Output.from_input(value).future())
        for key, value in (root.outputs if root else {}).items()
    }
    return StackRun(monitor.registered, exports, provider_mocks.calls, warnings=log.warnings)
