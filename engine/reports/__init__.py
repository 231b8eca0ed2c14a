"""The operator reports of DESIGN §6, one module each; plain data, no printing."""
