"""One module per msp command; each exposes `command`."""
