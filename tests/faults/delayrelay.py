#!/usr/bin/env python3
"""TCP relay that delays each direction of every connection by a fixed time.

delayrelay.py BIND_IP DELAY_MS LPORT:DEST_IP:DEST_PORT...

Used by tests/faults/lossy_link.sh (through tests/faults/netns.bash): nft
DNAT rules in the nodes' namespaces send the traffic of one link through this
relay, because the kernel here has no netem qdisc (and nft has no queue
support), so a real per-packet delay is not available. Each chunk read from
one side is written to the other side DELAY_MS after it was read, in order;
an end of stream is passed on after the data before it. Outgoing connections
are made from BIND_IP, so the nodes' nft rules can tell relayed traffic
apart from the client load. The delay is at the byte-stream level: TCP
acknowledgements of each hop are not delayed, Raft messages and HTTP
requests between the two nodes are."""
import asyncio
import sys
import time


async def pump(reader, writer, delay):
    q = asyncio.Queue()

    async def rd():
        try:
            while True:
                b = await reader.read(65536)
                q.put_nowait((time.monotonic() + delay, b))
                if not b:
                    return
        except (ConnectionError, OSError):
            q.put_nowait((time.monotonic(), b""))

    async def wr():
        try:
            while True:
                t, b = await q.get()
                d = t - time.monotonic()
                if d > 0:
                    await asyncio.sleep(d)
                if not b:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(b)
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(rd(), wr())


def handler(bind_ip, dest, delay):
    async def handle(cr, cw):
        try:
            ur, uw = await asyncio.open_connection(dest[0], dest[1],
                                                   local_addr=(bind_ip, 0))
        except OSError:
            cw.close()
            return
        try:
            await asyncio.gather(pump(cr, uw, delay), pump(ur, cw, delay))
        finally:
            for w in (cw, uw):
                try:
                    w.close()
                except OSError:
                    pass
    return handle


async def main():
    bind_ip, delay = sys.argv[1], int(sys.argv[2]) / 1000.0
    servers = []
    for spec in sys.argv[3:]:
        lport, dip, dport = spec.split(":")
        servers.append(await asyncio.start_server(
            handler(bind_ip, (dip, int(dport)), delay), bind_ip, int(lport),
            reuse_address=True))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
