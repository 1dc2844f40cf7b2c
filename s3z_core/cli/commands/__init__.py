"""One module per family of commands; each exposes ``run_<command>(session)`` coroutines."""
