"""``msp automate`` — apply the automations once (cron) or on a schedule (DESIGN §5)."""

from __future__ import annotations

import click

from msp.engine.automations import DEFAULT_BATCH_SIZE

from ..context import pass_app
from ..params import TEXT, FiniteNumber


@click.command("automate")
@click.option("--every", type=click.IntRange(1, 86_400), default=None, metavar="SECONDS",
              help="Keep sweeping every SECONDS until SIGTERM/SIGINT.")
@click.option("--follow", is_flag=True,
              help="Keep running and sweep as soon as new events commit (LISTEN/NOTIFY), until SIGTERM/SIGINT.")
@click.option("--poll-seconds", default=1.0, show_default=True, type=FiniteNumber(0.05, 86_400),
              help="With --follow: sweep at least this often (all it does where notifications cannot arrive).")
@click.option("--replay", is_flag=True, help="Re-walk history (with --since) and create only what is missing.")
@click.option("--since", type=TEXT, default=None, metavar="TIMESTAMP",
              help="With --replay: events that occurred at or after this time (e.g. 2026-11-01 or 2026-11-01T00:00Z).")
@click.option("--all-workspaces", is_flag=True, help="Sweep every workspace, not only --workspace.")
@click.option("--batch-size", default=DEFAULT_BATCH_SIZE, show_default=True, type=click.IntRange(1, 100_000),
              help="Events per batch (one transaction).")
@pass_app
def command(app, every, follow, poll_seconds, replay, since, all_workspaces, batch_size):
    """Apply the automations to new events: plans from passing candidates,
    smart alerts, journal drafts, the trade/journal lifecycle, coach analyses,
    coach tasks and journal enrichment. Each side effect happens exactly once,
    however often or concurrently this runs.

    \b
    Examples:
      msp automate                       # one sweep, for cron
      msp automate --every 60            # keep running
      msp automate --follow              # sweep as events commit
      msp automate --replay --since 2026-11-01
    """
    from msp.engine.errors import UsageError
    from msp.engine.timeparse import replay_since

    replay_since(replay, since)  # the same option checks as one sweep, before connecting
    if follow and (every or replay):
        raise UsageError("--follow cannot be combined with --every or --replay")
    ws = app.workspace
    if follow:
        from msp.engine.stopping import stop_on_signals

        with stop_on_signals() as stop:
            ws.automate_follow(poll_seconds=poll_seconds, batch_size=batch_size, all_workspaces=all_workspaces,
                               stop=stop, on_sweep=_followed_renderer(app.format), on_notice=_notice)
        return
    if every:
        # the loop owns SIGTERM/SIGINT (finish the batch in hand, then exit), which is the
        # command's business, not a library's: the API is one sweep, `Workspace.automate()`
        from msp.engine.automations.schedule_loop import run_every

        run_every(ws.db, every, _stream_renderer(app.format), batch_size=batch_size,
                  all_workspaces=all_workspaces, on_error=lambda message: click.echo(f"msp: {message}", err=True))
        return
    _render(app, ws.automate(replay=replay, since=since, all_workspaces=all_workspaces, batch_size=batch_size))


def _render(app, result) -> None:
    from ..render import console, emit_csv, emit_model, safe_text, table

    if app.format == "json":
        emit_model(result)
        return
    counters = result.model_dump(exclude={"skipped", "skipped_total"})
    if app.format == "csv":
        emit_csv(list(counters), [list(counters.values())])
        return
    out = console()
    out.print(table("Automation sweep", ["counter", "value"], list(counters.items())))
    if result.skipped:
        out.print(table("Skipped", ["automation", "item", "reason"],
                        [[s.automation, safe_text(s.item), s.reason] for s in result.skipped]))
        if result.skipped_total > len(result.skipped):
            out.print(f"… and {result.skipped_total - len(result.skipped)} more skipped")


def _stream_renderer(fmt: str):
    """How ``--every`` reports each sweep, flushed as it happens: JSON Lines (one
    compact object per sweep); CSV (the header once, a row per sweep); or, for
    people, one time-stamped line per sweep that found events — an idle sweep
    prints nothing."""
    import datetime as dt
    import sys

    from ..render import emit_csv, reader_gone, safe_text, to_json_line

    header = []

    def render(report) -> None:
        counters = report.counters()
        if fmt == "json":
            sys.stdout.write(to_json_line(report.as_dict()) + "\n")
        elif fmt == "csv":
            if not header:
                header.append(list(counters))
                emit_csv(header[0], [])
            emit_csv([], [list(counters.values())], header=False)
        elif counters.get("events_scanned") or any(counters.values()) or report.skipped_total:
            stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            done = ", ".join(f"{k} {v}" for k, v in counters.items() if v)
            skipped = f", skipped {report.skipped_total}" if report.skipped_total else ""
            sys.stdout.write(safe_text(f"{stamp} sweep: {done}{skipped}") + "\n")
        elif reader_gone():
            raise BrokenPipeError  # nothing to print, but whoever read us is gone: stop like any closed pipe
        sys.stdout.flush()

    return render


def _followed_renderer(fmt: str):
    """How ``--follow`` reports a sweep: as ``--every`` does, but only the sweeps
    that found events (a follower wakes for every commit of the workspace)."""
    render = _stream_renderer(fmt)

    def render_found(report) -> None:
        if report.counts["events_scanned"]:
            render(report)

    return render_found


def _notice(message: str) -> None:
    import sys

    print(f"msp: {message}", file=sys.stderr, flush=True)
