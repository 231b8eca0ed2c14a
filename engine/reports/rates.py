"""The six loop conversion rates (README.md#reports), from counts.

Percentages with one decimal; 0 when the denominator is 0 (JSON and CSV keep
that 0.0; tables show such a rate as ``n/a``, from its stage counts).
"""

from __future__ import annotations

# (rate, numerator count, denominator count), in loop order
RATES = (
    ("signal_to_candidate", "candidates", "signals"),
    ("candidate_to_plan", "plans", "candidates"),
    ("plan_to_execution", "executions", "plans"),
    ("execution_to_closed", "closed", "executions"),
    ("closed_to_coach", "coach_analyses", "closed"),
    ("task_accept", "tasks_accepted", "tasks_suggested"),
)


def percent(numerator: float, denominator: float) -> float:
    return round(100.0 * numerator / denominator, 1) if denominator else 0.0


def count_stages(counts: dict) -> list[dict]:
    """Each rate's ``reached`` (denominator) and ``converted`` (numerator) counts."""
    return [{"rate": name, "reached": counts[den], "converted": counts[num]} for name, num, den in RATES]


def conversion_rates(counts: dict) -> dict:
    return {name: percent(counts[num], counts[den]) for name, num, den in RATES}
