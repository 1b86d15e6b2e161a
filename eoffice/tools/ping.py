"""Exits 0 when every named service answers its `ping` RPC, 1 otherwise (used by the start
script to wait for services).

    python -m eoffice.tools.ping directory dak files"""

from __future__ import annotations

import sys

from eoffice.rpc import RpcPool


def main(services: list[str]) -> int:
    pool = RpcPool(timeout=3)
    silent = []
    for service in services:
        try:
            pool.call(service, "ping")
        except Exception:
            silent.append(service)
    pool.close()
    if silent:
        print("not answering: " + ", ".join(silent), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
