"""Run the replica on its own: `python -m tests.replica [--host 127.0.0.1] [--port 8765] [--synthetic-colours N]`,
until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .catalog import SYNTHETIC_CID
from .server import GapReplica


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.replica", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--synthetic-colours", type=int, default=0, metavar="N",
                        help=f"also serve cid {SYNTHETIC_CID}: N colours copied from the real captures, each with its "
                             "own ccId, styleId and images (for benchmarks)")
    parser.add_argument("--verbose", action="store_true", help="print one line per request to stderr")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    replica = GapReplica(host=args.host, port=args.port, verbose=args.verbose,
                         synthetic_colours=args.synthetic_colours).start()
    try:
        print(f"Gap replica listening on {replica.base_url} (listing API, product pages, images)", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        replica.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
