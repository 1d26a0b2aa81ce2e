"""The component provider started as the engine starts it, with a fake engine and resource monitor.

The Python language host runs `python <plugin folder> <engine address>`; the provider prints
the port of its gRPC server on stdout and serves there until it is stopped. `running_provider`
does the same with the test's interpreter (whose virtualenv holds the package), and gives a
`ResourceProvider` stub. For Construct, `FakeDeployment` serves the two services the provider
calls back: the engine (logging) and the resource monitor, which records every registration
and answers like the providers do, through `tests.pulumi_mocks.ProviderLikeMocks`.

Everything listens on 127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from tests.pulumi_mocks import PROJECT_DIR, ProviderLikeMocks

PLUGIN_DIR = PROJECT_DIR / "provider"
STARTUP_SECONDS = 60
NO_ENGINE = "127.0.0.1:1"  # GetSchema never calls the engine back


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(values, struct_pb2.Struct())


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]


@dataclass
class FakeMonitor(resource_pb2_grpc.ResourceMonitorServicer):
    """A resource monitor that records what registers and echoes inputs as outputs (plus the mocks')."""

    mocks: ProviderLikeMocks = field(default_factory=ProviderLikeMocks)
    registered: list[Registration] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        return resource_pb2.SupportsFeatureResponse(
            hasSupport=request.id in {"secrets", "resourceReferences"}
        )

    def RegisterResource(self, request: Any, context: Any) -> Any:
        urn = f"urn:pulumi:test::mta-sts::{request.type}::{request.name}"
        inputs = dict(rpc.deserialize_properties(request.object))
        self.registered.append(
            Registration(request.type, request.name, urn, request.parent, request.custom, inputs)
        )
        outputs: dict[str, Any] = inputs
        resource_id = ""
        if request.custom:
            args = MockResourceArgs(request.type, request.name, inputs, request.provider, None, True)
            resource_id, outputs = self.mocks.new_resource(args)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id or "", object=_struct(outputs))

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        self.outputs[request.urn] = dict(rpc.deserialize_properties(request.outputs))
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:
        args = dict(rpc.deserialize_properties(request.args))
        answer = self.mocks.call(MockCallArgs(request.tok, args, request.provider))
        return resource_pb2.ResourceInvokeResponse(**{"return": _struct(answer)})


@dataclass
class FakeEngine(engine_pb2_grpc.EngineServicer):
    logs: list[str] = field(default_factory=list)

    def Log(self, request: Any, context: Any) -> Any:
        self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


@dataclass
class FakeDeployment:
    engine_address: str
    monitor_address: str
    engine: FakeEngine
    monitor: FakeMonitor


@contextlib.contextmanager
def fake_deployment() -> Iterator[FakeDeployment]:
    engine, monitor = FakeEngine(), FakeMonitor()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(monitor, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        address = f"127.0.0.1:{port}"
        yield FakeDeployment(address, address, engine, monitor)
    finally:
        server.stop(grace=None)


@dataclass
class RunningProvider:
    stub: provider_pb2_grpc.ResourceProviderStub
    process: subprocess.Popen[bytes]


def _port_line(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], STARTUP_SECONDS)
    if not ready:
        raise TimeoutError(f"the provider printed no port within {STARTUP_SECONDS}s")
    return process.stdout.readline().decode().strip()


@contextlib.contextmanager
def running_provider(
    engine_address: str = NO_ENGINE, plugin_dir: Path = PLUGIN_DIR
) -> Iterator[RunningProvider]:
    """`python <plugin folder> <engine address>`, as the language host runs the plugin."""
    # stderr to a file: a pipe nobody reads could fill and stall the provider.
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, str(plugin_dir), engine_address],
            cwd=plugin_dir,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            line = _port_line(process)
            if not line.isdigit():
                process.kill()
                process.wait(timeout=10)
                stderr.seek(0)
                raise RuntimeError(f"the provider did not start: {line!r}\n{stderr.read().decode()[-4000:]}")
            with grpc.insecure_channel(f"127.0.0.1:{line}") as channel:
                grpc.channel_ready_future(channel).result(timeout=STARTUP_SECONDS)
                yield RunningProvider(provider_pb2_grpc.ResourceProviderStub(channel), process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


@functools.cache
def served_schema() -> dict[str, Any]:
    """The schema the provider serves, asked once per test session from a started provider."""
    with running_provider() as provider:
        response = provider.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
        info = provider.stub.GetPluginInfo(empty_pb2.Empty(), timeout=30)
    schema: dict[str, Any] = json.loads(response.schema)
    schema["x-plugin-version"] = info.version
    return schema
