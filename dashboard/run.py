"""`make dashboard`: the Gap replica, a real scrapyd and the dashboard, on loopback ports.

    python -m dashboard.run [--port 5000] [--scrapyd-port 6800] [--replica-port 8765] [--real-gap]
                            [--synthetic-colours N]

Ports that are taken are replaced by free ones. With --real-gap (or GAP_API_BASE/GAP_WEB_BASE/GAP_IMAGE_BASE set)
no replica is started and crawls go to the real Gap sites. Ctrl-C stops everything; running crawls end `failed`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading

from gapspider import config, db
from gapspider.config import PROJECT_ROOT

from dashboard.scrapyd_server import ScrapydServer, free_port, port_is_free, wait_http


def pick_port(wanted: int) -> int:
    return wanted if wanted and port_is_free(wanted) else free_port()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("DASHBOARD_PORT", 5000)))
    parser.add_argument("--scrapyd-port", type=int, default=int(os.environ.get("SCRAPYD_PORT", 6800)))
    parser.add_argument("--replica-port", type=int, default=int(os.environ.get("REPLICA_PORT", 8765)))
    parser.add_argument("--real-gap", action="store_true", help="no replica: crawl the real Gap sites")
    parser.add_argument("--synthetic-colours", type=int, metavar="N",
                        default=int(os.environ.get("REPLICA_SYNTHETIC_COLOURS") or 0),
                        help="the replica also serves the synthetic category cid 999999 with N colours (for trying "
                             "the dashboard with a big fetch)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C works even when started in the background

    os.environ.setdefault("GAPSPIDER_OUTPUT_DIR", str(config.output_root()))
    os.environ["GAPSPIDER_OUTPUT_DIR"] = str(config.output_root())  # absolute: scrapyd's crawls must agree
    database_url = config.database_url()
    os.environ["DATABASE_URL"] = database_url
    db.upgrade_database(database_url)

    children: list[subprocess.Popen] = []
    replica_url = None
    use_replica = not args.real_gap and not any(
        os.environ.get(name) for name in ("GAP_API_BASE", "GAP_WEB_BASE", "GAP_IMAGE_BASE")
    )
    if use_replica:
        replica_port = pick_port(args.replica_port)
        replica_url = f"http://127.0.0.1:{replica_port}"
        replica = subprocess.Popen(
            [sys.executable, "-m", "tests.replica", "--port", str(replica_port),
             "--synthetic-colours", str(max(args.synthetic_colours, 0))],
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        children.append(replica)
        wait_http(f"{replica_url}/__replica__/health", timeout=30)
        for name in ("GAP_API_BASE", "GAP_WEB_BASE", "GAP_IMAGE_BASE"):
            os.environ[name] = replica_url
        os.environ.setdefault("GAP_DOWNLOAD_DELAY", "0.2")
        os.environ.setdefault("GAP_DOWNLOAD_DELAY_JITTER", "0")

    scrapyd = ScrapydServer(
        port=pick_port(args.scrapyd_port),
        env=os.environ,
        username=os.environ.get("SCRAPYD_USERNAME", ""),
        password=os.environ.get("SCRAPYD_PASSWORD", ""),
    )
    try:
        scrapyd.start()
    except Exception:
        for child in children:
            child.terminate()
        raise
    os.environ["SCRAPYD_URL"] = scrapyd.url
    os.environ.setdefault("DASHBOARD_BACKGROUND_CHECK", "1")

    from dashboard import create_app

    app = create_app()
    port = pick_port(args.port)
    print()
    print("gapspider dashboard")
    print(f"  dashboard   http://127.0.0.1:{port}/")
    print(f"  scrapyd     {scrapyd.url}/   (log: tmp/scrapyd/scrapyd.log, crawl logs: tmp/scrapyd/logs/)")
    if replica_url:
        print(f"  Gap replica {replica_url}/   (crawls go here; try https://www.gap.com/browse/women/jeans?cid=5664#department=136)")
        if args.synthetic_colours > 0:
            from tests.replica.catalog import SYNTHETIC_CID

            print(f"              synthetic category, {args.synthetic_colours} colours: "
                  f"https://www.gap.com/browse/men/synthetic?cid={SYNTHETIC_CID}#department=75")
    else:
        print("  Gap         the real sites (no replica)")
    print(f"  database    {database_url}")
    print(f"  files       {config.output_root()}")
    if app.config.get("DASHBOARD_PASSWORD"):
        print("  login       password from DASHBOARD_PASSWORD")
    print("Ctrl-C stops everything.", flush=True)

    stopping = threading.Event()

    def shutdown(*_args) -> None:
        if stopping.is_set():
            return
        stopping.set()
        print("\nStopping scrapyd (running crawls end as failed) and the replica…", flush=True)
        with lock:
            scrapyd.stop()
        for child in children:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()

    lock = threading.Lock()

    def watchdog() -> None:
        """scrapyd killed or crashed: say so, end its orphaned crawls, start it again (the dashboard needs it)."""
        while not stopping.wait(2.0):
            with lock:
                if stopping.is_set():
                    return
                try:
                    code = scrapyd.revive_if_dead()
                except Exception as exc:  # the port may be taken meanwhile: say it, try again later
                    print(f"scrapyd stopped and could not be started again: {exc}", flush=True)
                    continue
            if code is not None:
                print(f"scrapyd had stopped (exit code {code}): its crawls were ended and it was started again "
                      f"at {scrapyd.url}/", flush=True)

    threading.Thread(target=watchdog, name="scrapyd-watchdog", daemon=True).start()

    signal.signal(signal.SIGTERM, lambda *_: (shutdown(), sys.exit(0)))
    try:
        app.run(host="127.0.0.1", port=port, threaded=True, use_reloader=False, debug=False)
    except KeyboardInterrupt:
        pass
    finally:
        shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
