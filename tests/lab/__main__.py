"""Run the lab in the foreground: `python -m tests.lab [--network 127.77.0.0/24]`."""

import argparse
import shlex
import shutil
import signal
import threading
from pathlib import Path

from . import Lab


def environment_lines(lab: Lab, ca_file: str) -> list[str]:
    """Shell lines to paste before `bin/run`: exported, so the service's processes (not just the shell) see them."""
    settings = {
        "SCANNER_RESOLVE": ",".join(lab.resolve_map()),
        "SCANNER_ALLOWED_NETWORKS": lab.allowed_network,
        "SCANNER_CA_FILE": str(Path(ca_file).resolve()),
    }
    return [f"export {name}={shlex.quote(value)}" for name, value in settings.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--network", default="127.77.0.0/24")
    parser.add_argument("--ca-out", default="lab-ca.pem", help="copy the lab CA bundle here")
    args = parser.parse_args()
    with Lab(network=args.network) as lab:
        shutil.copy(lab.ca_file, args.ca_out)
        print(f"CA bundle: {args.ca_out}")
        for case in lab.cases:
            print(f"{case.hostname:28} {case.ip:15} https:{case.https_port} http:{case.http_port}  {case.description}")
        print("\n".join(environment_lines(lab, args.ca_out)))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
