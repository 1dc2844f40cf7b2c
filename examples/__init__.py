"""Runnable examples of s3z_core used as a library (not installed with the app)."""
