"""``python -m crawler.mirror [--host ADDRESS] [--port-base N] [--faults] [--delay SECONDS]``: serve the
fixtures until interrupted; prints the host map (JSON) crawls take as ``--host-map``."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

from crawler.mirror import start_mirror
from crawler.mirror.faults import Faults


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m crawler.mirror", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (a private one for cluster workers on other machines)")
    parser.add_argument("--port-base", type=int, help="first port; hosts get consecutive ports in name order")
    parser.add_argument("--sites-dir", type=Path, help="serve this tree instead of the bundled fixtures")
    parser.add_argument("--no-challenge", action="store_true", help="serve CCDI pages without the cookie challenge")
    parser.add_argument("--faults", action="store_true", help="also serve the fault site (crawler/mirror/faults.py)")
    parser.add_argument("--stall-seconds", type=float, default=Faults.stall_seconds, help="how long the stalling page stalls")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds every answer takes (a distant server)")
    args = parser.parse_args()
    faults = Faults(stall_seconds=args.stall_seconds) if args.faults else None
    mirror = start_mirror(args.sites_dir, args.host, port_base=args.port_base, challenge=not args.no_challenge, faults=faults, delay=args.delay)
    print(json.dumps(mirror.host_map, indent=2), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        mirror.stop()


if __name__ == "__main__":
    main()
