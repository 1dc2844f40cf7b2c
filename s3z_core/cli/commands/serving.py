"""``serve-local``: run the embedded SeaweedFS in the foreground until Ctrl-C.

Printing the generated secret is the point of this command (a throwaway local sandbox
bound to 127.0.0.1); it goes to stdout only, once, and never into logs.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

    from s3z_core.cli.session import Session


def run_serve_local(session: Session) -> int:
    from s3z_core.local_server import LocalS3Server

    args = session.args
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    server = LocalS3Server(args.dir, s3_port=args.port, region=args.region or "us-east-1")
    try:
        server.start()
        export = (
            f"export AWS_ENDPOINT_URL={server.endpoint_url} "
            f"AWS_ACCESS_KEY_ID={server.access_key} "
            f"AWS_SECRET_ACCESS_KEY={server.secret_key} AWS_REGION={server.region}"
        )
        session.console.result(
            {
                "type": "server",
                "endpoint_url": server.endpoint_url,
                "access_key": server.access_key,
                "secret_key": server.secret_key,
                "region": server.region,
                "pid": server.pid,
                "data_dir": str(server.data_dir),
            },
            "\n".join(
                (
                    f"SeaweedFS S3 server on {server.endpoint_url} "
                    f"(pid {server.pid}, data in {server.data_dir})",
                    f"  access key: {server.access_key}",
                    f"  secret key: {server.secret_key}",
                    f"  region:     {server.region}",
                    "Use it from a shell:",
                    f"  {export}",
                    "  s3z-core mb s3://demo && s3z-core cp ./file s3://demo/",
                    "Press Ctrl-C to stop.",
                )
            ),
        )
        session.console.out.flush()
        stop.wait()
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    session.console.err.write("s3z-core: local server stopped\n")
    return 0
