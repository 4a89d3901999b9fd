"""A blocking client for shardlyn-api's console and logs WebSockets (python3-websockets, driven
on its own event loop): frames {"event", "args", "seq"?} in and out."""
from __future__ import annotations

import asyncio
import json
import time

import websockets


async def connect(url: str, headers: dict | None):
    # Made inside the loop that drives it (the client binds to the running loop).
    # close_timeout: a client that stopped reading cannot finish a close handshake quickly.
    return await websockets.connect(url, extra_headers=headers or {}, open_timeout=10, max_size=None,
                                    close_timeout=1)


class ConsoleClient:
    def __init__(self, server, path: str, headers: dict | None = None):
        self.loop = asyncio.new_event_loop()
        url = server.base_url.replace("http://", "ws://") + path
        self.ws = self.loop.run_until_complete(connect(url, headers))
        self.seen: list[dict] = []

    def send(self, event: str, *args) -> None:
        self.send_raw(json.dumps({"event": event, "args": list(args)}))

    def send_raw(self, text: str) -> None:
        self.loop.run_until_complete(self.ws.send(text))

    def recv(self, timeout: float = 10.0) -> dict:
        frame = json.loads(self.loop.run_until_complete(asyncio.wait_for(self.ws.recv(), timeout)))
        self.seen.append(frame)
        return frame

    def until(self, match, timeout: float = 20.0) -> dict:
        """The first frame (from now) that `match` accepts; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no matching frame within {timeout} s; last frames: {self.seen[-10:]}"
            try:
                frame = self.recv(timeout=left)
            except asyncio.TimeoutError:
                continue
            if match(frame):
                return frame

    def event(self, name: str, timeout: float = 20.0) -> dict:
        return self.until(lambda f: f["event"] == name, timeout)

    def error(self, event: str, timeout: float = 20.0) -> dict:
        frame = self.until(lambda f: f["event"] == "error" and f["args"][0]["event"] == event, timeout)
        return frame["args"][0]

    def closed(self, timeout: float = 10.0) -> bool:
        try:
            self.loop.run_until_complete(asyncio.wait_for(self.ws.wait_closed(), timeout))
            return True
        except asyncio.TimeoutError:
            return False

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.ws.close())
        finally:
            self.loop.close()


def authenticate_by_frame(client: ConsoleClient, token: str, early_event: str, *early_args) -> None:
    """First-frame auth as a browser does it: a frame before it and a bad token are refused,
    then `token` is admitted."""
    client.send(early_event, *early_args)
    assert client.error(early_event)["code"] == "not_authenticated"
    client.send("auth", "not-a-token")
    assert client.error("auth")["code"] == "unauthorized"
    client.send("auth", token)
    client.event("auth success")


def refused_status(server, path: str, headers: dict | None = None) -> int:
    """The HTTP status of an upgrade the server refuses."""
    loop = asyncio.new_event_loop()
    url = server.base_url.replace("http://", "ws://") + path
    try:
        loop.run_until_complete(connect(url, headers))
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code
    finally:
        loop.close()
    raise AssertionError(f"the upgrade of {path} was accepted")
