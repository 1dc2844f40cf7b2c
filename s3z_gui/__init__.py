"""The s3z desktop app: a Qt face on the async engine in ``s3z_core``."""
