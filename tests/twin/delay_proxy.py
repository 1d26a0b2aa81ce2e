"""A proxy that adds a fixed delay each way, for a realistic round trip inside the twin.

    delay_proxy.py --delay 0.025 FRONT_IP:PORT=BACK_IP:PORT ...

Each mapping forwards UDP datagrams and TCP streams from the front address to the back
address (IPv6 ones in brackets, `[fd00::1]:443`), holding every datagram or chunk for
`delay` seconds in each direction (so a round trip costs 2 × delay, as to a real resolver
or web host). The kernel here has no netem.

A local TCP connect completes at once, so the first chunk a client sends waits one extra
round trip: that stands for the SYN/SYN-ACK a real connection costs before the client can
speak (TLS and DNS over TCP are client-first). Runs inside the twin's namespace only, on
uvloop: on two cores the proxy's own CPU would otherwise slow what the benchmark measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import resource
import signal
from typing import Any

import uvloop

Address = tuple[str, int]


def _address(text: str) -> Address:
    """`10.0.0.1:443` or `[fd00::1]:443` (the brackets keep an IPv6 address apart from its port)."""
    host, _, port = text.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)


class UdpFront(asyncio.DatagramProtocol):
    """One upstream socket per client query socket, closed after the answer (or 10 s)."""

    def __init__(self, back: Address, delay: float) -> None:
        self.back, self.delay = back, delay
        self.transport: asyncio.DatagramTransport | None = None
        self.upstreams: dict[Address, asyncio.DatagramTransport] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, client: Address) -> None:
        asyncio.get_running_loop().call_later(
            self.delay, lambda: asyncio.ensure_future(self.forward(data, client))
        )

    async def forward(self, data: bytes, client: Address) -> None:
        loop = asyncio.get_running_loop()
        upstream = self.upstreams.get(client)
        if upstream is None or upstream.is_closing():
            upstream, _ = await loop.create_datagram_endpoint(
                lambda: UdpBack(self, client), remote_addr=self.back
            )
            self.upstreams[client] = upstream
            loop.call_later(10, self.drop, client, upstream)
        upstream.sendto(data)

    def answer(self, data: bytes, client: Address) -> None:
        assert self.transport is not None
        self.transport.sendto(data, client)

    def drop(self, client: Address, upstream: asyncio.DatagramTransport) -> None:
        upstream.close()
        if self.upstreams.get(client) is upstream:
            del self.upstreams[client]


class UdpBack(asyncio.DatagramProtocol):
    def __init__(self, front: UdpFront, client: Address) -> None:
        self.front, self.client = front, client

    def datagram_received(self, data: bytes, _: Any) -> None:
        asyncio.get_running_loop().call_later(self.front.delay, self.front.answer, data, self.client)


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, extra: float
) -> None:
    """Copy one direction in order, each chunk `delay` (the first `delay + extra`) after it came.

    Each chunk's write is a timer of its own (no queue, no task per direction): the proxy's
    CPU is the benchmark's overhead. Due times only grow, so the timers fire in order."""
    loop = asyncio.get_running_loop()
    due = 0.0
    delivered = loop.create_future()

    def deliver(data: bytes) -> None:
        if data:
            if not writer.is_closing():
                writer.write(data)
            return
        # The end, passed on if the other side still listens; the pump is done either way.
        if not writer.is_closing() and writer.can_write_eof():
            writer.write_eof()
        if not delivered.done():
            delivered.set_result(None)

    try:
        while True:
            data = await reader.read(65536)
            # Strictly later than the chunk before: equal due times may fire in any order.
            due = max(loop.time() + delay + extra, due + 1e-6)
            loop.call_at(due, deliver, data)
            extra = 0.0
            if not data:
                break
        await delivered
    except (ConnectionError, OSError):
        return


def tcp_handler(back: Address, delay: float) -> Any:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*back)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                _pump(client_reader, server_writer, delay, extra=2 * delay),
                _pump(server_reader, client_writer, delay, extra=0.0),
            )
        finally:
            for writer in (server_writer, client_writer):
                writer.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()

    return handle


async def serve(mappings: list[tuple[Address, Address]], delay: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    servers = []
    for front, back in mappings:
        await loop.create_datagram_endpoint(functools.partial(UdpFront, back, delay), local_addr=front)
        servers.append(await asyncio.start_server(tcp_handler(back, delay), *front, backlog=1024))
    await stop.wait()
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, required=True, help="seconds added in each direction")
    parser.add_argument("mappings", nargs="+", help="FRONT_IP:PORT=BACK_IP:PORT")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket per in-flight query
    mappings = [(_address(front), _address(back)) for front, back in (m.split("=") for m in args.mappings)]
    uvloop.run(serve(mappings, args.delay))


if __name__ == "__main__":
    main()
