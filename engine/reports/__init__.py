"""The operator reports (README.md#reports, docs/ARCHITECTURE.md#reports): one module each,
plain data, no printing; they only read."""
