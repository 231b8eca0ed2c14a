-- Automation 5: a coach analysis for every close (key: the close event).

-- name: project_closes
-- Every visible trade.closed not yet in closed_trades (the coach's sample);
-- it runs ahead of the batch so a close's statistics see every trade closed
-- before it that is already stored, whatever batch it fell into.
INSERT INTO closed_trades (workspace, close_event_id, close_seq, trade_id, symbol, workflow_id, plan_id,
                           realized_pnl, closed_at, occurred_at)
SELECT %(workspace)s, e.event_id, e.seq, e.event #>> '{payload,trade_id}', e.event #>> '{payload,symbol}',
       e.workflow_id, e.event #>> '{payload,plan_id}', (e.event #>> '{payload,realized_pnl}')::numeric,
       (e.event #>> '{payload,closed_at}')::timestamptz, e.occurred_at
FROM workflow_events e
WHERE e.workspace = %(workspace)s
  AND e.seq > %(floor)s  -- a value, not a subquery: the planner then walks seq, not every close in history
  AND e.event_type = 'trade.closed'
ON CONFLICT DO NOTHING

-- name: projected_up_to
-- The seq of the newest close already in the coach's sample.
SELECT coalesce(max(close_seq), 0) FROM closed_trades WHERE workspace = %(workspace)s

-- name: analysis_events
-- Statistics over the workspace's last 20 closes up to and including this
-- one by (close time, event id); recommendations in the documented order.
SELECT msp_event(
           kind => 'coach', key => s.close_event_id, event_type => 'coach.analysis.generated',
           occurred_at => s.occurred_text, entity_type => 'coach', entity_id => s.analysis_id, symbol => s.symbol,
           workflow_id => s.workflow_id, parent_event_id => s.close_event_id,
           payload => jsonb_build_object(
               'analysis_id', s.analysis_id, 'trade_id', s.trade_id, 'symbol', s.symbol,
               'plan_id', s.plan_id,
               'sample_size', s.sample_size, 'win_rate', s.win_rate, 'avg_win', s.avg_win,
               'avg_loss', s.avg_loss, 'expectancy', s.expectancy,
               'recommendations', (
                   SELECT coalesce(jsonb_agg(r.rec ORDER BY r.ord), '[]'::jsonb)
                   FROM (VALUES
                       (1, CASE WHEN s.sample_size < 5 THEN jsonb_build_object(
                               'priority', 'high', 'action', 'increase_sample_size',
                               'detail', format('Only %%s closed %%s so far: keep logging trades before changing the strategy.',
                                               s.sample_size, CASE WHEN s.sample_size = 1 THEN 'trade' ELSE 'trades' END)) END),
                       (2, CASE WHEN s.avg_win > 0 AND s.avg_win < s.avg_loss THEN jsonb_build_object(
                               'priority', 'high', 'action', 'improve_reward_to_risk',
                               'detail', format('The average win (%%s) is smaller than the average loss (%%s): aim for targets further than your stops.', round(s.avg_win, 2), round(s.avg_loss, 2))) END),
                       (3, CASE WHEN s.win_rate < 45 THEN jsonb_build_object(
                               'priority', 'medium', 'action', 'tighten_entry_filter',
                               'detail', format('The win rate is %%s%%%%: only take candidates with stronger confirmation.', round(s.win_rate, 2))) END),
                       (4, CASE WHEN s.expectancy > 0 THEN jsonb_build_object(
                               'priority', 'medium', 'action', 'keep_size_consistent',
                               'detail', format('Expectancy is positive (%%s per trade): keep position size consistent and let the edge play out.', round(s.expectancy, 2))) END),
                       (5, CASE WHEN NOT (s.sample_size < 5 OR (s.avg_win > 0 AND s.avg_win < s.avg_loss)
                                          OR s.win_rate < 45 OR s.expectancy > 0) THEN jsonb_build_object(
                               'priority', 'medium', 'action', 'continue_process_discipline',
                               'detail', 'No statistical red flags: keep following the process and journaling every trade.') END)
                   ) AS r (ord, rec)
                   WHERE r.rec IS NOT NULL))),
       NULL::bigint
FROM (
    SELECT c.close_event_id, c.trade_id, c.symbol, c.workflow_id, c.plan_id,
           e.event ->> 'occurred_at' AS occurred_text,
           'ca_' || left(md5(c.close_event_id), 12) AS analysis_id,
           w.sample_size,
           w.win_rate,
           w.avg_win,
           w.avg_loss,
           (w.win_rate / 100) * w.avg_win - (1 - w.win_rate / 100) * w.avg_loss AS expectancy
    FROM closed_trades c
    JOIN workflow_events e ON e.workspace = c.workspace AND e.event_id = c.close_event_id
    CROSS JOIN LATERAL (
        SELECT count(*)::integer AS sample_size,
               CASE WHEN count(*) = 0 THEN 0
                    ELSE count(*) FILTER (WHERE l.pnl > 0) * 100.0 / count(*) END AS win_rate,
               coalesce(avg(l.pnl) FILTER (WHERE l.pnl > 0), 0) AS avg_win,
               coalesce(avg(-l.pnl) FILTER (WHERE l.pnl < 0), 0) AS avg_loss
        FROM (
            SELECT t.realized_pnl AS pnl
            FROM closed_trades t
            WHERE t.workspace = c.workspace  -- equality, then the row bound: the scan starts at the bound
              AND (t.closed_at, t.close_event_id) <= (c.closed_at, c.close_event_id)
            ORDER BY t.workspace DESC, t.closed_at DESC, t.close_event_id DESC
            LIMIT 20
        ) l
    ) w
    WHERE c.workspace = %(workspace)s AND {in_batch} AND e.event_type = 'trade.closed'
) s
ORDER BY s.close_event_id
