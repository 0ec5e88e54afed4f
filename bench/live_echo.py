"""The floor of `bench live`: a bare websocket server (no GraphQL, no database) that broadcasts each upload.

Run as `python -m bench.live_echo`: it prints its port and serves until killed. A client that sends
`connection_init` gets `connection_ack` and, once it sends `subscribe`, receives every broadcast as a
graphql-transport-ws `next` frame shaped like readingsAdded's. A control client sends `{"fire": n}`; the
server answers it (the "upload accepted"), then writes frame n to every subscriber.
"""

import asyncio
import sys

import orjson
from websockets.asyncio.server import broadcast, serve
from websockets.exceptions import ConnectionClosed

FRAME = '{"id":"1","type":"next","payload":{"data":{"readingsAdded":{"count":1,"latest":[{"value":%d.0}]}}}}'


async def main() -> None:
    """Serve on a free loopback port (printed first) until killed."""
    subscribers: set = set()

    async def handle(ws) -> None:
        try:
            async for message in ws:
                data = orjson.loads(message)
                if "fire" in data:  # answered first, as an upload is answered before its event arrives
                    await ws.send(message)
                    broadcast(subscribers, FRAME % data["fire"])
                elif data.get("type") == "connection_init":
                    await ws.send('{"type":"connection_ack"}')
                elif data.get("type") == "subscribe":
                    subscribers.add(ws)
        except ConnectionClosed:  # the bench closes its subscribers as it likes
            pass
        finally:
            subscribers.discard(ws)

    async with serve(handle, "127.0.0.1", 0, subprotocols=["graphql-transport-ws"]) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
