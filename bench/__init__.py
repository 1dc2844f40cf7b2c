"""Benchmark harness: s3z-core against peer S3 tools on the same server, side by side.

Run it as ``python -m bench run`` (see ``bench/README.md``). Nothing here is imported by
``s3z_core`` or ``s3z_gui``; the harness drives every tool, ours included, as a subprocess.
"""
