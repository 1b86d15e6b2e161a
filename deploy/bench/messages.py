"""What one message costs the service that takes it, on an otherwise idle box.

    deploy/eoffice bench messages [--events 8000] [--calls 3000] [--publishes 3000] [--rounds 1]

Two kinds of message, each sent on its own, and the CPU the receiving processes spent on them,
and what publishing one costs the sender:

- an event a service has nothing to do for: `--events` paper letters' `eoffice.receipt.diarised.v1`
  put straight on the OCR worker's queue (a paper letter has no scan to read). What the event
  path itself costs a service: consume, decode, run a worker, log its line, acknowledge.
- an RPC that does no work: `--calls` `files.ping` one after another, from the gateway's RPC
  pool. What answering a call costs a service: consume, check the arguments, run a worker, log,
  publish the reply, acknowledge.

- a publish: `--publishes` messages put on a queue of the benchmark's own by nameko's
  `Publisher` as the house sets it up (`eoffice.amqp`), unconfirmed: this process's CPU each.

A movement is one RPC for files and three events for notify and search, so these costs are in
every operation. The box should be idle: figures under load include waiting for a core.
"""
from __future__ import annotations

import argparse
import time

from common import cpu_by_group, processes, through_ocr_worker
from kombu import Connection
from nameko.amqp.publish import Publisher

from eoffice.rpc import RpcPool
from eoffice.settings import get_settings


def events(count: int) -> float:
    """Puts `count` paper-letter events on the OCR worker's queue; returns its CPU a message (s)."""
    _, before, after = through_ocr_worker(count, "bench")
    return cpu_by_group(before, after).get("nameko OcrWorker", 0.0) / count


def calls(count: int) -> float:
    """Calls `files.ping` `count` times, one after another; returns files' CPU a call (s)."""
    pool = RpcPool(size=1, timeout=30)
    try:
        for _ in range(100):  # connections made, caches warm
            pool.call("files", "ping")
        before = processes()
        for _ in range(count):
            pool.call("files", "ping")
        after = processes()
    finally:
        pool.close()
    return cpu_by_group(before, after).get("nameko FilesService", 0.0) / count


def publishes(count: int) -> float:
    """Publishes `count` small messages with nameko's `Publisher`; returns this process's CPU a
    publish (s)."""
    uri, queue = get_settings().amqp_uri, "bench-publishes"
    with Connection(uri) as connection:
        connection.channel().queue_declare(queue, auto_delete=False)
    publisher = Publisher(uri, use_confirms=False)
    try:
        for _ in range(100):
            publisher.publish(b"x", exchange="", routing_key=queue)
        start = time.process_time()
        for _ in range(count):
            publisher.publish(b"x", exchange="", routing_key=queue)
        return (time.process_time() - start) / count
    finally:
        with Connection(uri) as connection:
            connection.channel().queue_delete(queue)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--publishes", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print("| round | an event with nothing to do (OCR worker) | an RPC with no work (files.ping) "
          "| a publish (sender) |")
    print("|---|---|---|---|")
    for n in range(1, args.rounds + 1):
        print(f"| {n} | {events(args.events) * 1000:.3f} ms | {calls(args.calls) * 1000:.3f} ms "
              f"| {publishes(args.publishes) * 1e6:.0f} us |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
