-- msp review counts a trade once, by its first close, and asks for every close
-- of the period whether an earlier close of the same trade exists
-- (engine/sql/review.sql window_trades): without this index that was a scan of
-- every close in history (120–220 ms at 94,000 closes, growing with them).
-- squawk-ignore require-concurrent-index-creation -- a narrow table; msp builds indexes of existing tables CONCURRENTLY where it can (engine/migrations.py)
CREATE INDEX IF NOT EXISTS closed_trades_trade_idx
    ON closed_trades (workspace, trade_id, close_seq);
