"""The ``s3z-core`` command line: a thin, fast-starting face of the engine for scripts and CI.

Nothing here is imported by the engine; heavy modules load inside command functions only.
"""
