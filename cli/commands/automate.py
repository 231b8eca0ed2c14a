"""``msp automate`` — apply the automations once (cron) or on a schedule (DESIGN §5);
``msp automate failures list|show|retry`` — the events the sweep set aside."""

from __future__ import annotations

import click

from msp.engine.automations import DEFAULT_BATCH_SIZE
from msp.engine.automations.parallel import DEFAULT_JOBS

from ..context import AppContext, pass_app
from ..params import TEXT, FiniteNumber


@click.group("automate", invoke_without_command=True)
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
@click.option("--jobs", type=click.IntRange(1, 64), default=None, metavar="N",
              help=f"With --all-workspaces: sweep up to N workspaces at once, each on its own connection "
                   f"[default: {DEFAULT_JOBS}].")
@click.option("--batch-size", default=DEFAULT_BATCH_SIZE, show_default=True, type=click.IntRange(1, 100_000),
              help="Events per batch (one transaction).")
@click.pass_context
def command(ctx, every, follow, poll_seconds, replay, since, all_workspaces, jobs, batch_size):
    """Apply the automations to new events: plans from passing candidates,
    smart alerts, journal drafts, the trade/journal lifecycle, coach analyses,
    coach tasks and journal enrichment. Each side effect happens exactly once,
    however often or concurrently this runs.

    An event an automation cannot apply (the database refuses what it would
    write) is set aside with its reason and the sweep goes on: see
    `msp automate failures list`. Exit 3 when the database is unreachable, or
    when a workspace could not be swept at all (with --all-workspaces the
    others are swept first, and each failed one is named on stderr).

    \b
    Examples:
      msp automate                       # one sweep, for cron
      msp automate --every 60            # keep running
      msp automate --follow              # sweep as events commit
      msp automate --replay --since 2026-11-01
      msp automate --all-workspaces      # every trader of the desk with new events
      msp automate failures list         # events set aside
    """
    from msp.engine.errors import UsageError

    if ctx.invoked_subcommand is not None:
        given = [f"--{name.replace('_', '-')}" for name in ctx.params
                 if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE]
        if given:
            raise UsageError(f"sweep options do not apply to `msp automate {ctx.invoked_subcommand}`: {', '.join(given)}")
        return
    _sweep(ctx.find_object(AppContext), every, follow, poll_seconds, replay, since, all_workspaces, jobs, batch_size)


def _sweep(app, every, follow, poll_seconds, replay, since, all_workspaces, jobs, batch_size):
    from msp.engine.automations.parallel import check_jobs
    from msp.engine.errors import UsageError
    from msp.engine.timeparse import replay_since

    replay_since(replay, since)  # the same option checks as one sweep, before connecting
    if follow and (every or replay):
        raise UsageError("--follow cannot be combined with --every or --replay")
    check_jobs(jobs, all_workspaces)
    ws = app.workspace
    if follow:
        from msp.engine.stopping import stop_on_signals

        with stop_on_signals() as stop:
            ws.automate_follow(poll_seconds=poll_seconds, batch_size=batch_size, all_workspaces=all_workspaces,
                               jobs=jobs, stop=stop, on_sweep=_followed_renderer(app.format), on_notice=_notice)
        return
    if every:
        # the loop owns SIGTERM/SIGINT (finish the batch in hand, then exit), which is the
        # command's business, not a library's: the API is one sweep, `Workspace.automate()`
        from msp.engine.automations.schedule_loop import run_every

        run_every(ws.db, every, _stream_renderer(app.format), batch_size=batch_size,
                  all_workspaces=all_workspaces, jobs=jobs, on_error=_notice)
        return
    result = ws.automate(replay=replay, since=since, all_workspaces=all_workspaces, jobs=jobs, batch_size=batch_size)
    _render(app, result)
    _say_failures(result.model_dump(mode="json"))
    if result.failed_workspaces:
        import sys

        from msp.engine.errors import EXIT_DATABASE

        sys.exit(EXIT_DATABASE)


def _say_failures(result: dict) -> None:
    """One line on stderr per event set aside and per workspace that could not be swept
    (``result``: the sweep's JSON, ``msp automate --format json``)."""
    from ..render import safe_text

    for item in result.get("set_aside") or ():
        _notice(safe_text(f"workspace {item['workspace']}: event {item['event_id']} ({item['event_type']}) set aside "
                          f"as automation failure {item['failure_id']} ({item['automation'] or 'automation'}: "
                          f"{item['reason']}); see msp automate failures list"))
    for failed in result.get("failed_workspaces") or ():
        _notice(safe_text(f"error: workspace {failed['workspace']} could not be swept: {failed['error']}"))


def _render(app, result) -> None:
    from ..render import console, emit_csv, emit_model, safe_text, table

    if app.format == "json":
        emit_model(result)
        return
    counters = result.model_dump(exclude={"skipped", "skipped_total", "set_aside", "failed_workspaces"})
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
        _say_failures(report.as_dict())
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
        if report.counts["events_scanned"] or report.set_aside or report.failed_workspaces:
            render(report)

    return render_found


def _notice(message: str) -> None:
    import sys

    print(f"msp: {message}", file=sys.stderr, flush=True)


@command.group("failures")
def failures():
    """Events the sweep set aside because an automation could not apply them
    (the database refused what it would write), each with its reason.

    \b
    Example:
      msp automate failures list
      msp automate failures show 3
      msp automate failures retry --all     # after a fix
    """


@failures.command("list")
@click.option("--status", type=click.Choice(["failed", "retried", "all"]), default="failed", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@pass_app
def failures_list(app, status, limit):
    """List set-aside events with the automation that failed and why."""
    from ..render import render_rows

    render_rows(app.format, "Automation failures",
                ["failure_id", "event_id", "event_type", "automation", "message", "attempts", "status"],
                app.workspace.automate_failures_list(status=status, limit=limit),
                empty="No automation failures.")


@failures.command("show")
@click.argument("failure_id", type=int)
@pass_app
def failures_show(app, failure_id):
    """One set-aside event: the failure and the event as stored."""
    from ..render import render_record

    render_record(app.format, f"Automation failure {failure_id}", app.workspace.automate_failures_show(failure_id))


@failures.command("retry")
@click.argument("failure_ids", type=int, nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every set-aside event.")
@pass_app
def failures_retry(app, failure_ids, retry_all):
    """Apply the automations again to set-aside events (exit 1 if any still fails)."""
    import sys

    from ..render import emit_counts

    result = app.workspace.automate_failures_retry(failure_ids, all=retry_all)
    emit_counts(app.format, result)
    sys.exit(1 if result.still_failed else 0)
