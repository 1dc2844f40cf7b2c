"""docker-compose.yml cannot be started here (no Docker engine), so check it statically:
every backend the bench knows is defined on the port and with the credentials the bench uses,
published on 127.0.0.1 only, with a health check."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from bench.backends import (
    BENCH_BUCKET,
    COMPOSE_ACCESS_KEY,
    COMPOSE_SECRET_KEY,
    COMPOSE_SERVICES,
    ComposeService,
)

REPO = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
S3_CONTAINER_PORT = {"minio": 9000, "rustfs": 9000, "seaweedfs": 8333, "garage": 3900}


def _mounted(service: dict[str, Any], container_path: str) -> Path:
    for volume in service.get("volumes", []):
        host, _, rest = volume.partition(":")
        if rest.split(":")[0] == container_path:
            assert host.startswith("./"), f"{container_path} should be a file from the repo"
            return REPO / str(host)
    raise AssertionError(f"nothing mounted at {container_path}")


def test_bench_knows_exactly_the_compose_backends() -> None:
    assert set(COMPOSE_SERVICES) == {"minio", "rustfs", "seaweedfs", "garage"}
    assert set(COMPOSE_SERVICES) <= set(SERVICES)


@pytest.mark.parametrize("backend", list(COMPOSE_SERVICES.values()), ids=lambda b: b.name)
def test_service_port_image_and_health(backend: ComposeService) -> None:
    service = SERVICES[backend.name]
    expected = f"127.0.0.1:{backend.port}:{S3_CONTAINER_PORT[backend.name]}"
    assert expected in service["ports"]
    assert service["image"].split(":")[0] == backend.image
    assert ":" in service["image"], "pin the image tag"
    assert service["healthcheck"]["test"]
    assert backend.endpoint_url == f"http://127.0.0.1:{backend.port}"


def test_every_published_port_is_loopback_only() -> None:
    host_ports: list[str] = []
    for name, service in SERVICES.items():
        for mapping in service.get("ports", []):
            assert re.fullmatch(r"127\.0\.0\.1:\d+:\d+", mapping), f"{name}: {mapping}"
            host_ports.append(mapping.split(":")[1])
    assert len(host_ports) == len(set(host_ports)), "two services share a host port"


def test_minio_and_rustfs_credentials() -> None:
    minio = SERVICES["minio"]["environment"]
    assert minio["MINIO_ROOT_USER"] == COMPOSE_ACCESS_KEY
    assert minio["MINIO_ROOT_PASSWORD"] == COMPOSE_SECRET_KEY
    rustfs = SERVICES["rustfs"]["environment"]
    assert rustfs["RUSTFS_ACCESS_KEY"] == COMPOSE_ACCESS_KEY
    assert rustfs["RUSTFS_SECRET_KEY"] == COMPOSE_SECRET_KEY


def test_seaweedfs_identity_file() -> None:
    service = SERVICES["seaweedfs"]
    assert "-s3.config=/etc/seaweedfs/s3.json" in service["command"]
    config = json.loads(_mounted(service, "/etc/seaweedfs/s3.json").read_text())
    creds = [c for ident in config["identities"] for c in ident["credentials"]]
    assert {"accessKey": COMPOSE_ACCESS_KEY, "secretKey": COMPOSE_SECRET_KEY} in creds


def test_garage_region_key_bucket_and_init() -> None:
    garage = SERVICES["garage"]
    config = tomllib.loads(_mounted(garage, "/etc/garage.toml").read_text())
    assert config["s3_api"]["s3_region"] == COMPOSE_SERVICES["garage"].region == "garage"
    assert config["s3_api"]["api_bind_addr"].endswith(f":{S3_CONTAINER_PORT['garage']}")
    assert config["replication_factor"] == 1
    init = SERVICES["garage-init"]
    assert init["depends_on"]["garage"]["condition"] == "service_healthy"
    env = init["environment"]
    assert env["ACCESS_KEY"] == COMPOSE_ACCESS_KEY
    assert env["SECRET_KEY"] == COMPOSE_SECRET_KEY
    assert env["BUCKET"] == BENCH_BUCKET
    assert env["GARAGE_ADMIN_TOKEN"] == config["admin"]["admin_token"]
    assert env["GARAGE_ADMIN_URL"].endswith(config["admin"]["api_bind_addr"].rsplit(":", 1)[1])
    script = _mounted(init, "/init.sh").read_text()
    for step in (
        "/v1/layout",
        "/v1/layout/apply",
        "/v1/key/import",
        "/v1/bucket",
        "/v1/bucket/allow",
    ):
        assert step in script
    # Garage key ids are GK + 24 hex digits; secrets 64 hex digits.
    assert re.fullmatch(r"GK[0-9a-f]{24}", COMPOSE_ACCESS_KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", COMPOSE_SECRET_KEY)
