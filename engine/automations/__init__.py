"""The automations (docs/ARCHITECTURE.md#the-automations): the runner, the registry and one module per automation."""

# Events per sweep batch (one transaction, holding the workspace's writer lock).
# Each batch costs some twenty statements whatever its size, so small batches
# make a catch-up sweep pay that many times over (measured on 200,000 events:
# 13.8 s at 5,000, 10.3 s at 20,000, 9.6 s at 50,000).  At 20,000 a batch holds
# the workspace's event writers off for 0.5-1 s, up to about 3 s for a batch of
# the sweep's own plans and analyses (the most work per event).  The CLI's
# default (`--batch-size`) reads it from here, a module light enough for `msp --help`.
DEFAULT_BATCH_SIZE = 20_000
