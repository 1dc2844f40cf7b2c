"""The transport: the one package that knows aiohttp (an import-linter contract says so), and
within it only ``via_aiohttp.py`` imports it: small requests go direct (``direct.py``), and
importing aiohttp (~0.2 s of CPU) is paid only by runs that stream a body through it."""
