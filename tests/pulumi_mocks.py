"""Run the real Pulumi program under `pulumi.runtime.set_mocks` and record what it registers.

The mocks answer like the providers do for the few computed outputs the program reads
(ids, URLs, the zone lookup); everything else is echoed, so tests assert what the program
*decided* (names, types, values, dependencies), never what the mock made up.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import runpy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, settings
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func

from mtasts import live
from mtasts.rules.mx_tls import MxTls

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOOKED_UP_ZONE_ID = "0123456789abcdef0123456789abcdef"


def zone_id_of(domain: str) -> str:
    """The zone id the mock lookup answers: LOOKED_UP_ZONE_ID for example.com, its own for any other."""
    return LOOKED_UP_ZONE_ID if domain == "example.com" else hashlib.md5(domain.encode()).hexdigest()


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
    ignore_changes: list[str] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    provider: str = ""  # the provider reference the engine would use: `<provider URN>::<id>`, or ""


@dataclass
class StackRun:
    resources: list[Registered]
    exports: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]]
    warnings: list[str] = field(default_factory=list)
    call_providers: list[str] = field(default_factory=list)  # each call's provider reference, in order
    probed: list[str] = field(default_factory=list)  # the MX hosts whose TLS the program probed

    def of_type(self, type_: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.type == type_]

    def named(self, name: str) -> Registered:
        matches = [resource for resource in self.resources if resource.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {len(matches)}"
        return matches[0]

    def dns_records(self) -> list[Registered]:
        return self.of_type("cloudflare:index/dnsRecord:DnsRecord")


class WarningLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings.append(record.getMessage())


# What ZoneDnssec reports right after enabling: `pending` until the registrar has the DS.
DNSSEC_OUTPUTS = {
    "status": "pending",
    "algorithm": "13",
    "digestType": "2",
    "digestAlgorithm": "SHA256",
    "digest": "8D2B1C9A0E33A3E3F7E0B5A97D0E4C5C1C2D7E0F5A3B4C6D7E8F90A1B2C3D4E5",
    "keyTag": 2371,
    "flags": 257,
    "keyType": "ECDSAP256SHA256",
    "publicKey": "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
}


def zone_record(
    id: str, name: str, type: str, content: str, priority: int | None = None, comment: str | None = None
) -> dict[str, Any]:
    """One record of a fake zone, as Cloudflare's list answers it (camelCase wire names)."""
    record: dict[str, Any] = {"id": id, "name": name, "type": type, "content": content, "ttl": 1}
    record["proxied"] = False
    if priority is not None:
        record["priority"] = priority
    if comment is not None:
        record["comment"] = comment
    return record


class ProviderLikeMocks(pulumi.runtime.Mocks):
    """`failing`: invoke token → the reason the provider gives for refusing it (a missing zone, a
    token without the permission), answered as the engine answers a failed invoke."""

    def __init__(
        self, zone: list[dict[str, Any]] | None = None, failing: dict[str, str] | None = None
    ) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_providers: list[str] = []
        self.zone = zone or []
        self.failing = failing or {}

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
        elif args.typ == "pulumi-python:dynamic/mtasts:ServedPolicy":
            # No outside system behind it: its own provider computes the record, as on a first `up`.
            from pulumi_mta_sts.served import ServedPolicyProvider

            outputs.update(ServedPolicyProvider().create(dict(args.inputs)).outs or {})
        elif args.typ == "pulumi-python:dynamic/mtasts:PublishedMaxAge":
            from pulumi_mta_sts.served import PublishedMaxAgeProvider

            outputs.update(PublishedMaxAgeProvider().create(dict(args.inputs)).outs or {})
        elif args.typ == "cloudflare:index/zoneDnssec:ZoneDnssec":
            zone = args.inputs["zoneId"]
            outputs.update(DNSSEC_OUTPUTS)
            outputs["ds"] = f"{zone}. 3600 IN DS 2371 13 2 {DNSSEC_OUTPUTS['digest']}"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        self.calls.append((args.token, dict(args.args)))
        self.call_providers.append(args.provider)
        if args.token in self.failing:
            return {}, [("", self.failing[args.token])]
        if args.token == "cloudflare:index/getZone:getZone":
            name = args.args["filter"]["name"]
            zone_id = zone_id_of(name)
            return {"id": zone_id, "zoneId": zone_id, "name": name}
        if args.token == "cloudflare:index/getDnsRecords:getDnsRecords":
            # Cloudflare's name filters are case-insensitive; answer only the exact name asked.
            exact = args.args["name"]["exact"].lower()
            return {"results": [record for record in self.zone if record["name"].lower() == exact]}
        return {}


class RecordingMonitor(mocks.MockMonitor):
    """Keeps what the mock monitor drops: parents, dependencies and resource options."""

    def __init__(self, mocks_: ProviderLikeMocks) -> None:
        super().__init__(mocks_)
        self.provider_mocks = mocks_
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
                    ignore_changes=list(request.ignoreChanges),
                    aliases=[_alias(alias) for alias in request.aliases],
                    provider=request.provider,
                )
            )
        return response


def _alias(alias: Any) -> dict[str, Any]:
    """An alias as the engine receives it: a URN, or a spec of what differs from the resource."""
    if alias.HasField("urn"):
        return {"urn": alias.urn}
    spec = alias.spec
    found = {"name": spec.name, "type": spec.type, "parentUrn": spec.parentUrn, "noParent": spec.noParent}
    return {key: value for key, value in found.items() if value}


def config_for(values: dict[str, Any]) -> dict[str, str]:
    """Stack config as the engine passes it: namespaced keys, lists and numbers as JSON."""
    return {
        f"mta-sts:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }


@dataclass
class FailedRun:
    error: Exception
    registered: list[Registered]


MxTlsSeen = dict[str, list[MxTls]]


def passing_mx_tls(hosts: Sequence[str]) -> list[MxTls]:
    """What the MX check sees of hosts that a test does not say otherwise about: all pass."""
    return [MxTls(host, "192.0.2.25", "passed") for host in hosts]


def run_program(
    values: dict[str, Any],
    *,
    preview: bool = False,
    zone: list[dict[str, Any]] | None = None,
    mx_tls: MxTlsSeen | None = None,
) -> StackRun:
    """Run __main__.py with the given `mta-sts:*` config; raise what the program raises.

    `zone` is what the Cloudflare zone already holds (records made with `zone_record`).
    `mx_tls`: what the MX hosts' TLS probe sees, per host (others pass); no probe leaves
    the process.
    """
    return _run(values, preview, RecordingMonitor(ProviderLikeMocks(zone)), mx_tls)


def run_failing_program(
    values: dict[str, Any],
    *,
    zone: list[dict[str, Any]] | None = None,
    mx_tls: MxTlsSeen | None = None,
    failing: dict[str, str] | None = None,
) -> FailedRun:
    """Run a program that must fail; return its error and whatever it registered before failing.
    `failing`: invokes the provider refuses, token → its reason (`ProviderLikeMocks`)."""
    monitor = RecordingMonitor(ProviderLikeMocks(zone, failing))
    try:
        _run(values, False, monitor, mx_tls)
    except Exception as error:
        return FailedRun(error, monitor.registered)
    raise AssertionError(f"the program accepted {values}")


def _ensure_event_loop() -> None:
    """Pulumi's mocks run on the thread's current event loop, and an `asyncio.run` earlier in the
    same process (the verify tests) leaves the thread with none: make one when it is missing."""
    try:
        if not asyncio.get_event_loop_policy().get_event_loop().is_closed():
            return
    except RuntimeError:
        pass
    asyncio.set_event_loop(asyncio.new_event_loop())


def run_example(program_dir: Path, project: str) -> StackRun:
    """Run another program (its own __main__.py and project name, no `mta-sts:` config)."""
    monitor = RecordingMonitor(ProviderLikeMocks())
    return _run({}, False, monitor, main=program_dir / "__main__.py", project=project)


def _run(
    values: dict[str, Any],
    preview: bool,
    monitor: RecordingMonitor,
    mx_tls: MxTlsSeen | None = None,
    main: Path = PROJECT_DIR / "__main__.py",
    project: str = "mta-sts",
) -> StackRun:
    _ensure_event_loop()
    probed: list[str] = []

    def probe(hosts: Sequence[str], ca_file: str | None = None) -> list[MxTls]:
        probed.extend(hosts)
        return [entry for host in hosts for entry in (mx_tls or {}).get(host, passing_mx_tls([host]))]

    provider_mocks = monitor.provider_mocks
    # The mock engine logs to the root logger (the `logger` argument of set_mocks is not
    # the one pulumi.log reaches once the runtime is configured), so listen there.
    log = WarningLog()
    logger = logging.getLogger()
    logger.addHandler(log)
    pulumi.runtime.set_all_config(config_for(values), secret_keys=["mta-sts:netlifyToken"])
    # set_mocks keeps an existing root Stack, and with it the previous run's exports.
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(provider_mocks, project=project, stack="test", preview=preview, monitor=monitor)
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()

    def program() -> None:
        runpy.run_path(str(main), run_name="__main__")

    # A plain swap rather than unittest.mock.patch: importing unittest.mock would add about 4 ms
    # to every run of bench/startup.py, which measures this harness with the program.
    real_probe, live.probe_mx_tls = live.probe_mx_tls, probe
    try:
        mocks._sync_await(run_pulumi_func(program))
    finally:
        live.probe_mx_tls = real_probe
        logger.removeHandler(log)
    root = get_root_resource()
    exports = {
        key: mocks._sync_await(pulumi.Output.from_input(value).future())
        for key, value in (root.outputs if root else {}).items()
    }
    return StackRun(
        monitor.registered,
        exports,
        provider_mocks.calls,
        warnings=log.warnings,
        call_providers=provider_mocks.call_providers,
        probed=probed,
    )
