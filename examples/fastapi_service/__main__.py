"""Run the example service: ``python -m examples.fastapi_service --local``.

``--local`` starts the embedded SeaweedFS (the server ``s3z-core serve-local`` runs) on
127.0.0.1 in a temporary folder, creates a ``demo`` bucket and stops the server on exit.
Without it the engine is configured like the CLI: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION or a profile (AWS_PROFILE).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from contextlib import ExitStack

from examples.fastapi_service.app import (
    SERVICE_TRANSFERS,
    EngineFactory,
    create_app,
    default_engine,
)
from s3z_core.engine import WORK_MODULES, Engine, prepare
from s3z_core.errors import S3zError

DEMO_BUCKET = "demo"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.fastapi_service", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--local", action="store_true", help="serve an embedded SeaweedFS (s3z[local])"
    )
    parser.add_argument("--data-dir", help="with --local: keep the store's data here")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default loopback)")
    parser.add_argument("--port", type=int, default=8000)
    return parser.parse_args(argv)


async def ensure_bucket(factory: EngineFactory, name: str) -> None:
    async with factory() as engine:
        if not await engine.bucket_exists(name):
            await engine.create_bucket(name)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    import uvicorn

    with ExitStack() as stack:
        factory: EngineFactory = default_engine
        try:
            if args.local:
                from s3z_core.local_server import LocalS3Server

                server = stack.enter_context(LocalS3Server(args.data_dir))

                def factory() -> Engine:
                    return Engine.from_settings(
                        endpoint_url=server.endpoint_url,
                        access_key=server.access_key,
                        secret_key=server.secret_key,
                        region=server.region,
                        addressing_style="path",
                        transfer_config=SERVICE_TRANSFERS,
                    )

                asyncio.run(ensure_bucket(factory, DEMO_BUCKET))
                print(f"s3z example: SeaweedFS on {server.endpoint_url}, bucket {DEMO_BUCKET!r}")
            factory()  # settings are checked now, not as a traceback at start-up
        except S3zError as exc:
            print(f"s3z example: {exc}", file=sys.stderr)
            return 2
        print(f"s3z example: API docs on http://{args.host}:{args.port}/docs", flush=True)
        prepare(*WORK_MODULES)  # the engine's code, imported before uvicorn's loop runs it
        uvicorn.run(create_app(factory), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
