#!/usr/bin/env python3
"""A consumer that is not C++: catches up on examples/ticker's stream with pyzmq and
decodes the events with the `capnp` tool, both from Debian packages, following
notifiers/PROTOCOL.md alone. Every committed position arrives once, in order.

Both sockets are CURVE servers with an allow-list: the keys are made here with pyzmq
(`zmq.curve_keypair`, Z85 as `ashlar keygen` writes them), the client's key is listed
under an actor, and a client without CURVE is shown to get nothing. With an allow-list
the ticker's engine serves a per-client stream: heartbeats on the PUB socket, every
event from the replay service (PROTOCOL.md, "Per-client streams").

    wire_test.py --ticker build/bin/ticker --schema eventlog/schema/event.capnp
"""

import argparse
import json
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import zmq

HEARTBEAT = b"@heartbeat"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def numbers(body):
    """(position, sequence): the first two data words of the Event struct, read from the
    Cap'n Proto framing (segment table, root struct pointer) without generated code."""
    segments = struct.unpack_from("<I", body, 0)[0] + 1
    table = 4 + 4 * segments
    table += table % 8  # the segment table is padded to a whole word
    pointer = struct.unpack_from("<Q", body, table)[0]
    assert pointer & 3 == 0, "the root is a struct pointer"
    offset = (pointer >> 2) & 0x3FFFFFFF
    if offset & 0x20000000:
        offset -= 0x40000000
    return struct.unpack_from("<QQ", body, table + 8 + offset * 8)


ACTOR = {"id": "wire", "role": "reader"}


class Keys:
    """The server's key pair (its secret in a key file for the ticker) and a client's,
    on the ticker's allow-list as ACTOR."""

    def __init__(self, directory):
        self.server_public, server_secret = zmq.curve_keypair()
        self.public, self.secret = zmq.curve_keypair()
        self.server_file = directory + "/server.key"
        with open(self.server_file, "wb") as f:
            f.write(server_secret + b"\n")
        self.clients_file = directory + "/clients.json"
        with open(self.clients_file, "w") as f:
            json.dump({self.public.decode(): ACTOR}, f)

    def secure(self, socket):
        socket.curve_serverkey = self.server_public
        socket.curve_publickey = self.public
        socket.curve_secretkey = self.secret
        return socket


class ReplayClient:
    def __init__(self, context, endpoint, keys):
        self.socket = keys.secure(context.socket(zmq.REQ))
        self.socket.setsockopt(zmq.RCVTIMEO, 10000)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        self.requests = 0

    def ask(self, request):
        self.requests += 1
        self.socket.send_string(json.dumps(request))
        header, *events = self.socket.recv_multipart()
        reply = json.loads(header)
        if not reply["ok"]:
            raise RuntimeError("replay service: " + reply["error"])
        return reply, events


def watch_ticker(ticker, done):
    for line in ticker.stdout:
        match = re.match(r"done: (\d+) committed, (\d+) rejected", line)
        if match:
            done["committed"] = int(match.group(1))


def plain_client_hears_nothing(replay_endpoint):
    """A REQ without CURVE asks the CURVE service: no reply within half a second."""
    context = zmq.Context()
    plain = context.socket(zmq.REQ)
    plain.setsockopt(zmq.LINGER, 0)
    plain.connect(replay_endpoint)
    plain.send_string(json.dumps({"op": "head"}))
    answered = plain.poll(500) != 0
    context.destroy(linger=0)
    return not answered


def catch_up(args, pub, replay_endpoint, keys, done):
    """Hello, subscribe, then deliver positions in order, filling gaps from replay."""
    context = zmq.Context()
    replay = ReplayClient(context, replay_endpoint, keys)
    hello, _ = replay.ask({"op": "hello", "id": 1, "after": 0})
    domain = hello["domain"]
    names = [r["name"] for r in hello["model"]["resources"]]
    done["actor"] = hello.get("actor")
    sub = keys.secure(context.socket(zmq.SUB))
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, HEARTBEAT)
    sub.setsockopt_string(zmq.SUBSCRIBE, domain + ".")
    sub.connect(pub)

    following, known = hello["start"], hello["last"]
    held, delivered, heartbeats = {}, [], []

    def offer(topic, body):
        nonlocal following, known
        position, _ = numbers(body)
        known = max(known, position)
        if position >= following:
            held[position] = (topic, body)
        while following in held:
            delivered.append(held.pop(following))
            following += 1

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "committed" in done and following > done["committed"] and heartbeats \
                and heartbeats[-1]["head"] >= done["committed"]:
            break
        if known >= following and following not in held:
            reply, events = replay.ask({"op": "replay", "id": following, "from": following, "limit": 100})
            known = max(known, reply["last"])
            filtered = "through" in reply  # a per-client stream: the numbers skipped are not ours
            for body in events:
                if filtered:
                    following = max(following, numbers(body)[0])
                offer(None, body)
            if filtered:
                following = max(following, reply["through"] + 1)
                for position in [p for p in held if p < following]:
                    del held[position]
            continue
        if sub.poll(100):
            topic, body = sub.recv_multipart()
            if topic == HEARTBEAT:
                beat = json.loads(body)
                heartbeats.append(beat)
                known = max(known, beat["head"])
            else:
                offer(topic.decode(), body)
    context.destroy(linger=0)
    return domain, names, delivered, heartbeats, replay.requests


def decode_all(capnp, schema, bodies):
    """One `capnp decode` reads every event: the stream format is a sequence of messages."""
    run = subprocess.run([capnp, "decode", schema, "Event"], input=b"".join(bodies),
                         capture_output=True, timeout=30, check=True)
    text = run.stdout.decode()
    positions = [int(p) for p in re.findall(r"\bposition = (\d+)", text)]
    resources = re.findall(r'\bresource = "([A-Za-z_0-9]+)"', text)
    return positions, resources


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticker", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--capnp", default="capnp")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()

    pub = "tcp://127.0.0.1:%d" % free_port()
    replay = "tcp://127.0.0.1:%d" % free_port()
    with tempfile.TemporaryDirectory(prefix="ashlar-wire-") as tmp:
        keys = Keys(tmp)
        ticker = subprocess.Popen([args.ticker, tmp + "/store", "--publish", pub, "--replay", replay,
                                   "--count", str(args.count), "--rate", "1000", "--linger", "30",
                                   "--server-key", keys.server_file, "--clients", keys.clients_file],
                                  stdout=subprocess.PIPE, text=True)
        done = {}
        threading.Thread(target=watch_ticker, args=(ticker, done), daemon=True).start()
        try:
            domain, names, delivered, heartbeats, requests = catch_up(args, pub, replay, keys, done)
            plain_refused = plain_client_hears_nothing(replay)
        finally:
            ticker.send_signal(signal.SIGTERM)
            code = ticker.wait(timeout=10)

    failures = []
    committed = done.get("committed")
    if committed is None:
        failures.append("the ticker never printed its done line")
    positions = [numbers(body)[0] for _, body in delivered]
    if positions != list(range(1, (committed or 0) + 1)):
        failures.append("positions are not 1..%s: %s ..." % (committed, positions[:10]))
    decoded, resources = decode_all(args.capnp, args.schema, [body for _, body in delivered])
    if decoded != positions:
        failures.append("capnp decode read other positions than the framing says")
    for (topic, _), resource in zip(delivered, resources):
        if resource not in names:
            failures.append("resource %s is not in the served model" % resource)
        if topic is not None and not topic.startswith("%s.%s." % (domain, resource)):
            failures.append("topic %s does not start with %s.%s." % (topic, domain, resource))
    if not heartbeats or heartbeats[-1]["head"] != committed:
        failures.append("no heartbeat carried the head %s" % committed)
    if not plain_refused:
        failures.append("a client without CURVE got a reply")
    if done.get("actor") != ACTOR:
        failures.append("hello named the actor %s, not %s" % (done.get("actor"), ACTOR))
    if code != 0:
        failures.append("the ticker exited with %s on SIGTERM" % code)
    live = sum(1 for topic, _ in delivered if topic is not None)
    print("%d events (%d live, %d replayed in %d requests), %d decoded by capnp, %d heartbeats"
          % (len(delivered), live, len(delivered) - live, requests, len(decoded), len(heartbeats)))
    for failure in failures:
        print("FAILED: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
