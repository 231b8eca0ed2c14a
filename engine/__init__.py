"""msp's engine: every behaviour of msp, with no click and no printing.

Modules, one job each: ``config`` (settings), ``embedded`` (zero-setup server),
``db`` (connections and error mapping), ``migrations`` / ``migration_files`` / ``migration_check`` /
``migration_lint`` / ``migration_locks`` / ``migration_status`` / ``migration_plan``,
``schemas`` / ``validation`` (JSON Schema files → validators), ``event_store``
(the one writer of workflow events), ``ingest``, ``rejects``, ``automations``
(the runner and one module per automation) and ``reports``.
"""
