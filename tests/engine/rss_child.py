"""Run in a subprocess by test_engine_memory.py: one Engine job, reporting its own RSS.

    python rss_child.py ENDPOINT ACCESS SECRET REGION BUCKET big FILE DEST
    python rss_child.py ENDPOINT ACCESS SECRET REGION BUCKET many SRC_DIR DEST_DIR

Prints one JSON line; peak RSS of the whole process is measured outside (GNU time -v).
"""

from __future__ import annotations

import asyncio
import json
import sys

import psutil

from s3z_core.engine import Engine
from s3z_core.events import TransferCompleted, TransferEvent


def rss_mib() -> float:
    return psutil.Process().memory_info().rss / (1 << 20)


async def main(argv: list[str]) -> dict[str, object]:
    endpoint, access, secret, region, bucket, mode, src, dest = argv
    samples: dict[str, float] = {}
    done = {"n": 0}
    phase = {"name": "upload"}

    def sink(event: TransferEvent) -> None:
        if isinstance(event, TransferCompleted):
            done["n"] += 1
            if done["n"] in (1_000, 10_000):
                samples[f"{phase['name']}_{done['n']}"] = rss_mib()

    engine = Engine.from_settings(
        endpoint_url=endpoint,
        access_key=access,
        secret_key=secret,
        region=region,
        addressing_style="path",
        on_event=sink,
    )
    async with engine:
        if mode == "big":
            up = await engine.upload_file(src, bucket, "big").result()
            samples["after_upload"] = rss_mib()
            down = await engine.download_file(bucket, "big", dest).result()
            samples["after_download"] = rss_mib()
            return {
                "samples": samples,
                "up": up.size,
                "down": down.size,
                "verification": down.verification.value,
            }
        up_batch = await engine.upload_paths([src], bucket, keep_dir_names=False).result()
        done["n"] = 0
        phase["name"] = "download"
        down_batch = await engine.download_prefix(bucket, "", dest).result()
        return {
            "samples": samples,
            "up": len(up_batch.completed),
            "up_failed": len(up_batch.failed),
            "down": len(down_batch.completed),
            "down_failed": len(down_batch.failed),
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))))
