-- Funnel automations (PostgreSQL). Runs with search_path set to the Funnel schema. A step that sends no email to the lead (a branch or an action) ends in the new final
-- state 8 (done). The purge's index covers every final state: sent, failed for good, suppressed, skipped, cancelled
-- and done.

DROP INDEX outbox_completed;
CREATE INDEX outbox_completed ON outbox (completed_at, key) WHERE state IN (2, 4, 5, 6, 7, 8);
