"""``rm``: one key, or everything under a prefix with ``-r`` (DeleteObjects, 1000 per request).

Per-key failures from the DeleteObjects answer are each listed; any failure exits 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3z_core.cli.urls import parse_remote, s3_url
from s3z_core.errors import ConfigError

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.cli.urls import Location
    from s3z_core.engine import Engine, Work
    from s3z_core.models import DeleteResult


def work_of(session: Session) -> tuple[Work, ...]:
    """What main imports before the loop: the deletes, and a recursive one's listing."""
    return ("delete", "list") if session.args.recursive else ("delete",)


def report_deletes(session: Session, bucket: str, result: DeleteResult) -> int:
    console = session.console
    for key in result.deleted:
        url = s3_url(bucket, key)
        console.info(f"delete: {url}", {"type": "deleted", "bucket": bucket, "key": key})
    for failure in result.failures:
        console.failures += 1
        console.clear_line()
        console.err.write(
            f"s3z-core: failed: DeleteObjects {s3_url(bucket, failure.key)}: "
            f"{failure.code}: {failure.message}\n"
        )
        if console.json_lines:
            console.emit(
                {
                    "type": "failure",
                    "operation": "delete",
                    "target": s3_url(bucket, failure.key),
                    "error": {
                        "kind": "DeleteFailure",
                        "code": failure.code,
                        "message": failure.message,
                    },
                }
            )
    return 1 if result.failures else 0


async def _rm_on_cluster(session: Session, engine: Engine, location: Location) -> int:
    """The driver lists (parallel listing, filtered); shards of keys delete on the workers."""
    from s3z_core.cli.commands import sharded

    prefix = location.key
    keys = [
        o.key
        async for o in engine.iter_objects(location.bucket, prefix, ordered=False)
        if session.filters.accepts(o.key[len(prefix) :])
    ]
    tasks = sharded.build_delete_tasks(session, location.bucket, keys)
    agg = await sharded.run_on_cluster(session, engine, tasks)
    code = report_deletes(session, location.bucket, agg.deletes)
    workers = dict(sorted(agg.per_worker.items()))
    done = ", ".join(f"{w} did {n}" for w, n in workers.items()) or "no keys"
    session.console.info(f"cluster: {done}", {"type": "cluster_summary", "workers": workers})
    return code


async def run_rm(session: Session) -> int:
    args = session.args
    location = parse_remote(args.url)
    if not args.recursive and (location.is_bucket_only or location.key.endswith("/")):
        raise ConfigError(f"{location} is a bucket or prefix: use -r to delete what is under it")
    cluster = getattr(args, "cluster", None) and not args.dry_run
    if cluster:
        from s3z_core.cli.commands.sharded import check_cluster
        from s3z_core.cluster import require_dask

        check_cluster(session)
        require_dask()
        if not args.recursive:
            raise ConfigError("--cluster shards a recursive delete: use -r")
    async with session.engine() as engine:
        if cluster:
            return await _rm_on_cluster(session, engine, location)
        if not args.recursive:
            keys = [location.key]
        elif not args.dry_run:
            return report_deletes(
                session,
                location.bucket,
                await engine.delete_prefix(location.bucket, location.key, session.filters),
            )
        else:
            prefix = location.key
            keys = [
                o.key
                async for o in engine.iter_objects(location.bucket, prefix)
                if session.filters.accepts(o.key[len(prefix) :])
            ]
        if args.dry_run:
            for key in keys:
                url = s3_url(location.bucket, key)
                session.console.result(
                    {
                        "type": "plan",
                        "action": "delete",
                        "source": None,
                        "destination": url,
                        "reason": "rm",
                    },
                    f"(dryrun) delete: {url}",
                )
            return 0
        return report_deletes(
            session, location.bucket, await engine.delete_objects(location.bucket, keys)
        )
