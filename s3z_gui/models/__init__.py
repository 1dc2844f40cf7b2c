"""Item models: pure row stores underneath, thin Qt adapters on top."""
