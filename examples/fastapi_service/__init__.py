"""s3z_core behind an HTTP API: a FastAPI service with one Engine per app lifespan.

Run it with ``python -m examples.fastapi_service --local`` (see README.md); build it into
your own service with ``create_app``.
"""

from examples.fastapi_service.app import create_app

__all__ = ["create_app"]
