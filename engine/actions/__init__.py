"""Writes that follow a person's decision: deciding a coach task, setting the
operator state, triggering an alert and drafting its journal entry, retrying
quarantined lines.  (Reads live in ``engine/reports/``, the sweep's writes in
``engine/automations/``, ingest's in ``engine/ingest.py``.)"""
