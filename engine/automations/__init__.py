"""The automations of DESIGN §5: the runner and one module per automation."""
