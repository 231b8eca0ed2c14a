-- The review's facts of each close, kept by the sweep beside the close itself
-- (engine/automations/review_facts.py, engine/sql/review.sql trade_facts).
-- msp review groups a trade by what its workflow says: its entry (time, plan,
-- strategy), its plan's first stop and signal type, its journal's strategy and
-- tags, its signal.  Read from the events at review time, that was a visit to
-- every related event of every trade of the period (10,000 events for a busy
-- trader's week, about a third of the review's time); kept here, a week is
-- the index range of closed_trades_close_time_idx it already was.
--
-- has_facts: the columns below hold the facts of the close's workflow as of
-- the sweep's checkpoint (the sweep recomputes them whenever a batch brings an
-- event they are read from).  A close projected ahead of its batch, or stored
-- before this migration, has none yet: the review computes its facts from
-- the events, as it does for a workflow with events the sweep has not seen,
-- and each sweep batch fills a bounded number of them.  So a later change to
-- what trade_facts computes comes with a migration that sets has_facts = false.
ALTER TABLE closed_trades
    ADD COLUMN IF NOT EXISTS has_facts boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS side text,
    ADD COLUMN IF NOT EXISTS quantity numeric,
    ADD COLUMN IF NOT EXISTS entry_price numeric,
    ADD COLUMN IF NOT EXISTS entered_at timestamptz,
    ADD COLUMN IF NOT EXISTS stop numeric,
    ADD COLUMN IF NOT EXISTS strategy text,
    ADD COLUMN IF NOT EXISTS tags text[];

-- The closes still without facts: empty once the sweep has caught up, so each
-- batch's look for a few of them is an empty index read.
-- squawk-ignore require-concurrent-index-creation -- msp builds indexes of existing tables CONCURRENTLY before the transaction (engine/migrations.py)
CREATE INDEX IF NOT EXISTS closed_trades_without_facts_idx
    ON closed_trades (workspace, close_seq) WHERE NOT has_facts;

-- A close whose workflow msp archive moved out before this migration has no
-- events left to compute its facts from (msp archive now stores them first,
-- engine/archive.py): it is marked as having them (none), so the review
-- counts it by its P&L, symbol and close time, and the sweep's look for closes
-- without facts does not find it again in every batch.
UPDATE closed_trades t
SET has_facts = true
FROM archived_events a
WHERE a.workspace = t.workspace AND a.event_id = t.close_event_id AND NOT t.has_facts;
