"""py-libp2p peer for the LibP2P interop tests (test tooling only).

Modes:
  listen SEED_HEX            listen on 127.0.0.1 (Noise + yamux only); prints "READY <multiaddr>", then serves
                             /test/echo/1.0.0 (echo until EOF, then close), /test/sum/1.0.0 (read to EOF,
                             reply "<length> <sha256 hex>"), /test/reset/1.0.0 (read 1 byte, then reset);
                             identify and ping are py-libp2p's own handlers. Each handled stream prints one
                             JSON line. Runs until stdin closes.
  dial SEED_HEX MULTIADDR    dial the Swift peer: identify, ping x3, 4 concurrent echo streams, 1.5 MiB on the
                             Swift sum protocol, and prints one JSON line of results; exits 0 when all passed.
  gossip SEED_HEX TOPIC      a gossipsub peer (see gossip()).
  kad SEED_HEX               a Kademlia DHT server (see kad()).
"""
import hashlib
import json
import logging
import sys

import multiaddr
import trio

from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519
from libp2p.host.ping import PingService
from libp2p.identity.identify.identify import ID as IDENTIFY_ID, parse_identify_response
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_ID, Transport as NoiseTransport

logging.basicConfig(level=logging.CRITICAL)


def out(obj):
    print(json.dumps(obj), flush=True)


def make_host(seed_hex):
    key_pair = create_new_key_pair(bytes.fromhex(seed_hex))
    noise = NoiseTransport(key_pair, noise_privkey=create_x25519().private_key)
    return new_host(key_pair=key_pair, sec_opt={NOISE_ID: noise}, muxer_preference="YAMUX")


async def read_all(stream, limit=8 * 1024 * 1024):
    data = bytearray()
    while True:
        try:
            chunk = await stream.read(65536)
        except Exception:
            break
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise ValueError("too much data")
    return bytes(data)


async def echo_handler(stream):
    total = 0
    while True:
        try:
            chunk = await stream.read(65536)
        except Exception:
            break
        if not chunk:
            break
        total += len(chunk)
        await stream.write(chunk)
    await stream.close()
    out({"handled": "echo", "bytes": total, "peer": str(stream.muxed_conn.peer_id)})


async def sum_handler(stream):
    data = await read_all(stream)
    await stream.write(f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode())
    await stream.close()
    out({"handled": "sum", "bytes": len(data)})


async def reset_handler(stream):
    await stream.read(1)
    await stream.reset()
    out({"handled": "reset"})


async def listen(seed_hex):
    host = make_host(seed_hex)
    addr = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
    async with host.run(listen_addrs=[addr]):
        host.set_stream_handler("/test/echo/1.0.0", echo_handler)
        host.set_stream_handler("/test/sum/1.0.0", sum_handler)
        host.set_stream_handler("/test/reset/1.0.0", reset_handler)
        a = [str(x) for x in host.get_addrs() if "127.0.0.1" in str(x)][0]
        print("READY " + a, flush=True)
        await trio.to_thread.run_sync(sys.stdin.read, abandon_on_cancel=True)


async def dial(seed_hex, target):
    host = make_host(seed_hex)
    result = {}
    async with host.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
        info = info_from_p2p_addr(multiaddr.Multiaddr(target))
        with trio.fail_after(20):
            await host.connect(info)
            result["connected"] = True
            stream = await host.new_stream(info.peer_id, [IDENTIFY_ID])
            identify = parse_identify_response(await read_all(stream))
            result["identify"] = {
                "agent_version": identify.agent_version,
                "protocols": list(identify.protocols),
                "public_key_hex": identify.public_key.hex(),
            }
            rtts = await PingService(host).ping(info.peer_id, ping_amt=3)
            result["pings"] = len(rtts)

            echoes = {}

            async def one_echo(i):
                s = await host.new_stream(info.peer_id, ["/test/echo/1.0.0"])
                payload = bytes([i]) * (1000 * (i + 1))
                await s.write(payload)
                await s.close_write()
                echoes[i] = (await read_all(s)) == payload

            async with trio.open_nursery() as nursery:
                for i in range(4):
                    nursery.start_soon(one_echo, i)
            result["echoes_ok"] = all(echoes.values()) and len(echoes) == 4

            s = await host.new_stream(info.peer_id, ["/test/sum/1.0.0"])
            big = bytes(range(256)) * (6 * 1024)  # 1.5 MiB
            await s.write(big)
            await s.close_write()
            result["sum_reply"] = (await read_all(s)).decode()
            result["sum_expected"] = f"{len(big)} {hashlib.sha256(big).hexdigest()}"
    out(result)


async def gossip(seed_hex, topic):
    """gossip SEED_HEX TOPIC: a gossipsub peer (/meshsub/1.1.0, 1.0.0; StrictSign; D=6/5/12; 1 s heartbeat;
    eclipse protection off because every test peer is on 127.0.0.1). Prints "READY <multiaddr>", then one
    JSON line per received message; stdin lines: "connect MULTIADDR", "publish HEX", "mesh"."""
    from libp2p.pubsub.gossipsub import GossipSub, PROTOCOL_ID, PROTOCOL_ID_V11
    from libp2p.pubsub.pubsub import Pubsub
    from libp2p.tools.anyio_service import background_trio_service
    from libp2p.peer.id import ID

    host = make_host(seed_hex)
    router = GossipSub(
        protocols=[PROTOCOL_ID_V11, PROTOCOL_ID], degree=6, degree_low=5, degree_high=12,
        heartbeat_initial_delay=0.1, heartbeat_interval=1, eclipse_protection_enabled=False,
        spam_protection_enabled=False,
    )
    pubsub = Pubsub(host, router, strict_signing=True)
    me = host.get_id()
    async with host.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
        async with background_trio_service(pubsub), background_trio_service(router):
            await pubsub.wait_until_ready()
            sub = await pubsub.subscribe(topic)

            async def receive():
                while True:
                    msg = await sub.get()
                    sender = ID(msg.from_id)
                    if sender == me:
                        continue  # py delivers our own messages too
                    out({"from": sender.to_base58(), "seqno": msg.seqno.hex(), "topic": topic, "data": msg.data.hex()})

            async def commands():
                while True:
                    line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
                    if not line:
                        return
                    parts = line.split()
                    if parts[0] == "connect":
                        await host.connect(info_from_p2p_addr(multiaddr.Multiaddr(parts[1])))
                        out({"connected": parts[1]})
                    elif parts[0] == "publish":
                        await pubsub.publish(topic, bytes.fromhex(parts[1]))
                        out({"published": parts[1]})
                    elif parts[0] == "mesh":
                        out({"mesh": [p.to_base58() for p in router.mesh.get(topic, set())]})

            a = [str(x) for x in host.get_addrs() if "127.0.0.1" in str(x)][0]
            print("READY " + a, flush=True)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(receive)
                await commands()
                nursery.cancel_scope.cancel()


async def kad(seed_hex):
    """kad SEED_HEX: a Kademlia DHT server (/ipfs/kad/1.0.0). Prints "READY <multiaddr>"; stdin lines:
    "provide CID" (store ourselves as a provider locally) and "providers CID" (prints the local provider
    records of CID as {"providers": [...]})."""
    from libp2p.kad_dht.kad_dht import KadDHT, DHTMode
    from libp2p.tools.anyio_service import background_trio_service
    from cid import make_cid
    from libp2p.peer.peerinfo import PeerInfo

    host = make_host(seed_hex)
    async with host.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
        dht = KadDHT(host, DHTMode.SERVER)
        async with background_trio_service(dht):
            a = [str(x) for x in host.get_addrs() if "127.0.0.1" in str(x)][0]
            print("READY " + a, flush=True)
            while True:
                line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
                if not line:
                    return
                parts = line.split()
                key = bytes(make_cid(parts[1]).multihash)
                if parts[0] == "provide":
                    dht.provider_store.add_provider(key, PeerInfo(host.get_id(), host.get_addrs()))
                    out({"provided": parts[1]})
                elif parts[0] == "providers":
                    out({"providers": [str(p.peer_id) for p in dht.provider_store.get_providers(key)]})


def main():
    mode = sys.argv[1]
    if mode == "listen":
        trio.run(listen, sys.argv[2])
    elif mode == "kad":
        trio.run(kad, sys.argv[2])
    elif mode == "gossip":
        trio.run(gossip, sys.argv[2], sys.argv[3])
    elif mode == "dial":
        trio.run(dial, sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
