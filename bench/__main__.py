"""Command line of the bench: ``run`` (measure), ``compare`` (regression gate) and
``report`` (re-render the table and plots from a run's JSON)."""

from __future__ import annotations

import argparse
import datetime
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.backends import BACKEND_NAMES, BENCH_BUCKET, BackendError, open_backend
from bench.compare import (
    DEFAULT_ALPHA,
    DEFAULT_GATED_TOOLS,
    DEFAULT_NOISE_FLOOR,
    compare_runs,
    format_verdicts,
    gate_failures,
    pair_tools,
)
from bench.dataset import SpecError, ensure_file_set, parse_file_set
from bench.machine import REPO_ROOT, machine_info
from bench.operations import (
    DEFAULT_LIMIT_RATE,
    DEFAULT_LIMIT_SIZE,
    DEFAULT_LIST_KEYS,
    DEFAULT_SIZES,
    KINDS,
    QUICK_LIMIT_SIZE,
    QUICK_LIST_KEYS,
    QUICK_SIZES,
    RateLimit,
    build_operations,
    parse_rate,
)
from bench.report import SCHEMA, load_run, markdown_table, write_json
from bench.runner import OK, Runner, SamplingPolicy

EXIT_OK = 0
EXIT_FAILED_SAMPLES = 1
EXIT_USAGE = 2
EXIT_REGRESSION = 3


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _keys_label(counts: tuple[int, ...]) -> str:
    return ",".join(str(c) for c in counts)


def _list_key_counts(text: str | None, quick: bool) -> list[int]:
    """``--list-keys 10000,100000``: one listing per count; 0 alone means none."""
    if text is None:
        return list(QUICK_LIST_KEYS if quick else DEFAULT_LIST_KEYS)
    try:
        counts = [int(part) for part in _csv(text)]
    except ValueError:
        raise ValueError(f"--list-keys takes whole numbers, e.g. 10000,100000: {text!r}") from None
    if any(c < 0 or c > 999_999 for c in counts):
        raise ValueError("--list-keys must be between 0 and 999999")
    return sorted({c for c in counts if c > 0})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="measure the tools side by side")
    run.add_argument(
        "--quick",
        action="store_true",
        help=f"tiny sizes ({', '.join(QUICK_SIZES)}, list {_keys_label(QUICK_LIST_KEYS)} keys), "
        "1 sample, no warm-up, uploads verified by content too: a smoke test for CI",
    )
    run.add_argument(
        "--sizes", help=f"comma-separated COUNTxSIZE file sets (default {','.join(DEFAULT_SIZES)})"
    )
    run.add_argument(
        "--list-keys",
        help="comma-separated key counts, one listing each "
        f"(default {_keys_label(DEFAULT_LIST_KEYS)}; 0 = no listing)",
    )
    run.add_argument("--ops", default=",".join(KINDS), help="operation kinds to run (default: all)")
    run.add_argument(
        "--limit-rate",
        default=DEFAULT_LIMIT_RATE,
        help=f"the cap of the 'limit' operations, as s3z-core's --limit-rate reads it "
        f"(default {DEFAULT_LIMIT_RATE}: 20 MiB/s)",
    )
    run.add_argument(
        "--limit-size",
        help=f"the one file moved under the cap (default {DEFAULT_LIMIT_SIZE}; "
        f"{QUICK_LIMIT_SIZE} with --quick)",
    )
    run.add_argument(
        "--tools",
        help="comma-separated tools (default: every installed one except the opt-in "
        "s3z-core-cluster2)",
    )
    run.add_argument(
        "--backend",
        default="embedded",
        choices=BACKEND_NAMES,
        help="embedded SeaweedFS (default), rclone serve s3, an --endpoint-url, "
        "or a docker-compose service",
    )
    run.add_argument(
        "--endpoint-url",
        help="S3 endpoint (credentials from AWS_ACCESS_KEY_ID/"
        "AWS_SECRET_ACCESS_KEY); implies --backend endpoint unless a compose one is named",
    )
    run.add_argument("--region", help="region override")
    run.add_argument("--bucket", default=BENCH_BUCKET)
    run.add_argument("--min-samples", type=int)
    run.add_argument("--max-samples", type=int)
    run.add_argument(
        "--target-ci",
        type=float,
        default=0.10,
        help="stop a tool once its median's 95%% CI half-width is within this "
        "fraction of the median (default 0.10)",
    )
    run.add_argument("--warmups", type=int)
    run.add_argument("--seed", type=int, default=1, help="seed for data and interleaving")
    run.add_argument("--timeout", type=float, default=1800.0, help="per-sample timeout, seconds")
    run.add_argument(
        "--verify-uploads",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also download every uploaded object and check its sha256 "
        "(default: on with --quick; sizes are always checked)",
    )
    run.add_argument(
        "--no-gnu-time", action="store_true", help="measure with wait4 rusage instead of GNU time"
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        default=Path.home() / ".cache" / "s3z-bench",
        help="where generated input data is kept between runs",
    )
    run.add_argument("--out", type=Path, help="run directory (default bench/runs/<run id>)")

    cmp = sub.add_parser("compare", help="compare two runs; non-zero exit on a gated regression")
    cmp.add_argument("old", type=Path)
    cmp.add_argument("new", type=Path)
    cmp.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
    cmp.add_argument(
        "--noise-floor",
        type=float,
        default=DEFAULT_NOISE_FLOOR,
        help="ignore changes smaller than this fraction (default 0.05)",
    )
    cmp.add_argument(
        "--tools",
        nargs=2,
        metavar=("OLD_TOOL", "NEW_TOOL"),
        help="compare OLD's OLD_TOOL with NEW's NEW_TOOL only (OLD and NEW may be one run: "
        "s3z-core-nojournal s3z-core is what the journal costs)",
    )
    cmp.add_argument(
        "--gate",
        action="append",
        help=f"tool whose regression fails the command (default {DEFAULT_GATED_TOOLS[0]})",
    )

    rep = sub.add_parser("report", help="re-render the Markdown table and plots of a run")
    rep.add_argument("run_json", type=Path)
    return parser


def _run(args: argparse.Namespace) -> int:
    from bench.tools import (
        ALL_TOOLS,
        DEFAULT_TOOL_NAMES,
        TOOL_NAMES,
        Tool,
        ToolContext,
        ToolUnavailableError,
    )

    sizes = _csv(args.sizes) if args.sizes else list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    kinds = tuple(_csv(args.ops))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        _log(
            f"error: unknown operation kind(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}"
        )
        return EXIT_USAGE
    wanted_tools = _csv(args.tools) if args.tools else list(DEFAULT_TOOL_NAMES)
    unknown = [t for t in wanted_tools if t not in TOOL_NAMES]
    if unknown:
        _log(f"error: unknown tool(s) {', '.join(unknown)}; choose from {', '.join(TOOL_NAMES)}")
        return EXIT_USAGE
    try:
        list_keys = _list_key_counts(args.list_keys, args.quick)
        specs = [parse_file_set(s) for s in sizes]
        limit_spec = parse_file_set(
            args.limit_size or (QUICK_LIMIT_SIZE if args.quick else DEFAULT_LIMIT_SIZE)
        )
        parse_rate(args.limit_rate)
        policy = SamplingPolicy(
            min_samples=args.min_samples or (1 if args.quick else 5),
            max_samples=args.max_samples or (1 if args.quick else 15),
            target_rel_ci=args.target_ci,
            warmups=args.warmups if args.warmups is not None else (0 if args.quick else 1),
            seed=args.seed,
            timeout_s=args.timeout,
        )
    except (SpecError, ValueError, argparse.ArgumentTypeError) as exc:
        _log(f"error: {exc}")
        return EXIT_USAGE
    verify_uploads = args.quick if args.verify_uploads is None else args.verify_uploads
    backend_name = args.backend
    if args.endpoint_url and backend_name == "embedded":
        backend_name = "endpoint"

    tools: list[Tool] = []
    versions: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for tool_cls in ALL_TOOLS:
        if tool_cls.name not in wanted_tools:
            continue
        tool = tool_cls()
        try:
            tool.locate()
            versions[tool.name] = tool.version()
        except ToolUnavailableError as exc:
            skipped[tool.name] = str(exc)
            _log(f"skipping {tool.name}: {exc}")
            continue
        tools.append(tool)
    if not tools:
        _log("error: none of the selected tools is installed")
        return EXIT_USAGE

    from botocore.exceptions import BotoCoreError, ClientError

    from bench.bucket import BucketAdmin
    from bench.measure import ProcessMeter

    args.data_dir.mkdir(parents=True, exist_ok=True)
    _log(f"data: {args.data_dir}")
    file_sets = []
    for spec in specs:
        _log(f"   generating/checking {spec.label}")
        file_sets.append(ensure_file_set(args.data_dir, spec, args.seed))
    limit = None
    if "limit" in kinds:
        _log(f"   generating/checking {limit_spec.label} (moved at {args.limit_rate}/s)")
        limit = RateLimit(args.limit_rate, ensure_file_set(args.data_dir, limit_spec, args.seed))
    operations = build_operations(file_sets, list_keys, kinds, verify_uploads, limit)
    meter = ProcessMeter(prefer_gnu_time=not args.no_gnu_time)
    started = datetime.datetime.now(datetime.UTC)
    machine = machine_info()
    profile = "quick" if args.quick else "full"
    run_id = f"{started:%Y-%m-%d_%H%M}_{backend_name}_{profile}_{machine['git_commit']}"
    out_dir: Path = args.out or (REPO_ROOT / "bench" / "runs" / run_id)
    out_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="s3z-bench-", dir=args.data_dir) as tmp:
        scratch = Path(tmp)
        try:
            with open_backend(
                backend_name, endpoint_url=args.endpoint_url, region=args.region, work_dir=scratch
            ) as backend:
                _log(f"backend: {backend.description} at {backend.endpoint_url}")
                admin = BucketAdmin(backend, args.bucket)
                admin.ensure_bucket()
                config_dir = scratch / "config"
                config_dir.mkdir()
                pairs = []
                for tool in tools:
                    ctx = ToolContext(backend=backend, bucket=args.bucket, config_dir=config_dir)
                    tool.prepare(ctx)
                    pairs.append((tool, ctx))
                runner = Runner(
                    backend=backend,
                    admin=admin,
                    tools=pairs,
                    policy=policy,
                    meter=meter,
                    scratch_root=scratch / "work",
                    log=_log,
                )
                samples = runner.run(operations)
                backend_info = backend.describe()
        except BackendError as exc:
            _log(f"error: {exc}")
            return EXIT_USAGE
        except (BotoCoreError, ClientError) as exc:
            # The harness's own housekeeping requests (bucket, seeding) failed: wrong
            # endpoint or credentials, or a server that is not up.
            _log(f"error: S3 request to {args.endpoint_url or backend_name} failed: {exc}")
            return EXIT_USAGE

    record: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_id,
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(sys.argv[1:]),
        "profile": profile,
        "settings": {
            "sizes": [s.label for s in specs],
            "list_keys": list_keys,
            "limit": (
                {"rate": limit.rate, "rate_bps": limit.rate_bps, "size": limit_spec.label}
                if limit
                else None
            ),
            "bucket": args.bucket,
            "verify_uploads": verify_uploads,
            "verify_downloads": "sha256 of every file, every sample",
            "sampling": (
                f"{policy.warmups} warm-up per tool and op; {policy.min_samples}–"
                f"{policy.max_samples} samples, interleaved in a seeded shuffled order per pass "
                f"(seed {policy.seed}), stop at 95 % CI of the median within "
                f"±{policy.target_rel_ci:.0%}"
            ),
        },
        "measurement": meter.method,
        "machine": machine,
        "backend": backend_info,
        "tools": versions,
        "loop_lag_tools": [t.name for t in tools if t.loop_lag_env],
        "skipped_tools": skipped,
        "operations": [op.describe() for op in operations],
        "samples": [s.to_json() for s in samples],
    }
    return _write_outputs(record, out_dir, samples_failed=sum(s.status != OK for s in samples))


def _write_outputs(record: dict[str, Any], out_dir: Path, samples_failed: int) -> int:
    from bench.plots import write_plots

    write_json(out_dir / "run.json", record)
    table = markdown_table(record)
    (out_dir / "summary.md").write_text(table)
    write_plots(record, out_dir)
    print(table)
    _log(f"results: {out_dir}")
    if samples_failed:
        _log(f"error: {samples_failed} sample(s) failed or returned wrong data (see the table)")
        return EXIT_FAILED_SAMPLES
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    try:
        old, new = load_run(args.old), load_run(args.new)
    except ValueError as exc:
        _log(f"error: {exc}")
        return EXIT_USAGE
    if args.tools:
        old, new = pair_tools(old, new, *args.tools)
        if not old["samples"] or not new["samples"]:
            missing = args.tools[0] if not old["samples"] else args.tools[1]
            _log(f"error: no sample of tool {missing!r} in that run")
            return EXIT_USAGE
    verdicts = compare_runs(old, new, alpha=args.alpha, noise_floor=args.noise_floor)
    print(format_verdicts(verdicts, args.alpha, args.noise_floor))
    default_gate = (args.tools[1],) if args.tools else DEFAULT_GATED_TOOLS
    gated = tuple(args.gate) if args.gate else default_gate
    failures = gate_failures(verdicts, gated)
    if failures:
        names = ", ".join(f"{v.tool} {v.op} ({v.verdict})" for v in failures)
        _log(f"REGRESSION: {names}")
        return EXIT_REGRESSION
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    try:
        record = load_run(args.run_json)
    except ValueError as exc:
        _log(f"error: {exc}")
        return EXIT_USAGE
    return _write_outputs(record, args.run_json.parent, samples_failed=0)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # Unwind like Ctrl-C so the running tool's process group and our server are stopped.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "compare":
        return _compare(args)
    return _report(args)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _log("interrupted")
        sys.exit(130)
