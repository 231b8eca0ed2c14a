-- Automation 7: the coach summary appended once to a journal entry
-- (key: journal entry + analysis).  The target is the newest open entry of
-- the same workflow, else the open entry of the trade's plan, else the
-- symbol's newest open entry.

-- name: enrich
-- Enriches the target of every analysis of the batch that has one, and
-- returns the others as skipped (from the same targets: the two cannot
-- disagree); an analysis enriched before (the same id imported twice) is
-- neither.  The entries are taken as they stood when the analysis came in,
-- wherever batch boundaries fall: a batch never holds a journal event after an
-- analysis (engine/sql/runner.sql batch_end), and an entry whose first event
-- came after the analysis (a plan's draft the same batch created) is left out.
-- (MATERIALIZED keeps the jsonb-derived keys plain columns: under row-level
-- security only leakproof conditions may use an index, and jsonb's #>> is not.)
WITH batch AS MATERIALIZED (
    SELECT e.seq, e.workflow_id, e.occurred_at, e.parent_event_id,
           e.event #>> '{payload,analysis_id}' AS analysis_id,
           e.event #>> '{payload,symbol}' AS symbol,
           e.event #>> '{payload,trade_id}' AS trade_id,
           e.event #>> '{payload,plan_id}' AS event_plan_id,
           e.event -> 'payload' AS p
    FROM workflow_events e
    WHERE {in_batch}
      AND e.event_type = 'coach.analysis.generated'
),
analyses AS MATERIALIZED (
    SELECT b.seq, b.workflow_id, b.occurred_at, b.analysis_id, b.symbol,
           coalesce(b.event_plan_id, ct.plan_id, pos.plan_id) AS plan_id, b.p
    FROM batch b
    LEFT JOIN closed_trades ct ON ct.workspace = %(workspace)s AND ct.close_event_id = b.parent_event_id
    LEFT JOIN positions pos ON pos.workspace = %(workspace)s AND pos.trade_id = b.trade_id
),
targets AS MATERIALIZED (  -- looked up once: inlined, the filter and the insert each ran the look-ups
    SELECT a.*, coalesce(
        (SELECT j.journal_id FROM journal_entries j
          WHERE j.workspace = %(workspace)s AND j.status = 'open' AND j.workflow_id = a.workflow_id
            AND coalesce((SELECT s.seq FROM workflow_events s
                          WHERE s.workspace = %(workspace)s AND s.event_id = j.source_event_id), 0) < a.seq
          ORDER BY j.occurred_at DESC, j.journal_id DESC LIMIT 1),
        (SELECT j.journal_id FROM journal_entries j
          WHERE j.workspace = %(workspace)s AND j.status = 'open' AND j.plan_id = a.plan_id
            AND coalesce((SELECT s.seq FROM workflow_events s
                          WHERE s.workspace = %(workspace)s AND s.event_id = j.source_event_id), 0) < a.seq
          ORDER BY j.occurred_at DESC, j.journal_id DESC LIMIT 1),
        (SELECT j.journal_id FROM journal_entries j
          WHERE j.workspace = %(workspace)s AND j.status = 'open' AND j.symbol = a.symbol
            AND coalesce((SELECT s.seq FROM workflow_events s
                          WHERE s.workspace = %(workspace)s AND s.event_id = j.source_event_id), 0) < a.seq
          ORDER BY j.occurred_at DESC, j.journal_id DESC LIMIT 1)) AS journal_id
    FROM analyses a
),
added AS (
    INSERT INTO journal_enrichments (workspace, journal_id, analysis_id, summary, occurred_at)
    SELECT %(workspace)s, t.journal_id, t.analysis_id,
           format(E'Coach %%s: win rate %%s%%%%, avg win %%s, avg loss %%s, expectancy %%s over %%s %%s.%%s',
                  t.analysis_id, round((t.p ->> 'win_rate')::numeric, 2), round((t.p ->> 'avg_win')::numeric, 2),
                  round((t.p ->> 'avg_loss')::numeric, 2), round((t.p ->> 'expectancy')::numeric, 2),
                  t.p ->> 'sample_size', CASE WHEN t.p ->> 'sample_size' = '1' THEN 'trade' ELSE 'trades' END,
                  (SELECT coalesce(string_agg(format(E'\n- [%%s] %%s: %%s', r ->> 'priority', r ->> 'action',
                                                     r ->> 'detail'), '' ORDER BY n), '')
                     FROM jsonb_array_elements(CASE WHEN jsonb_typeof(t.p -> 'recommendations') = 'array'
                                                    THEN t.p -> 'recommendations' ELSE '[]' END)
                          WITH ORDINALITY AS x (r, n)
                    WHERE n <= 3)),
           t.occurred_at
    FROM targets t
    WHERE t.journal_id IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING journal_id, analysis_id, summary, occurred_at
),
updated AS (
    UPDATE journal_entries j
    SET notes = concat_ws(E'\n\n', nullif(j.notes, ''), g.text),
        tags = CASE WHEN 'coach_enriched' = ANY (j.tags) THEN j.tags ELSE j.tags || ARRAY['coach_enriched'] END
    FROM (SELECT journal_id, string_agg(summary, E'\n\n' ORDER BY occurred_at, analysis_id) AS text
          FROM added GROUP BY journal_id) g
    WHERE j.workspace = %(workspace)s AND j.journal_id = g.journal_id
    RETURNING j.journal_id
)
SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM updated),
       (SELECT coalesce(jsonb_agg(jsonb_build_array(t.analysis_id, 'no open journal entry to enrich')
                                  ORDER BY t.seq), '[]')
        FROM targets t
        WHERE t.journal_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM journal_enrichments j
                          WHERE j.workspace = %(workspace)s AND j.analysis_id = t.analysis_id))
