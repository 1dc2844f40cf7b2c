"""``python -m s3z_core.cli``: the same entry point as the ``s3z-core`` console script."""

from s3z_core.cli.main import main

raise SystemExit(main())
