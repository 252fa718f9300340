-- Funnel.Sequences broadcasts: one row per scheduled broadcast (IBroadcastStore), keyed by its key. The document is
-- the Broadcast as JSON (FunnelJson, wrapped with "v":1 and without its version): the definition, the queuing cursor
-- and the throttle slots. status (0 scheduled, 1 queuing, 2 queued, 3 cancelled) and due_at (INTEGER Unix
-- nanoseconds: the start, or the end of the queuing claim's lease) are copied from it for the due list; `version` is
-- the compare-and-set counter.

CREATE TABLE broadcasts (
    key TEXT NOT NULL PRIMARY KEY,
    status INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    document TEXT NOT NULL
) WITHOUT ROWID;
-- Exactly the due list's predicate: open broadcasts (scheduled or queuing) only, earliest due first, then by key.
CREATE INDEX broadcasts_due ON broadcasts (due_at, key) WHERE status IN (0, 1);
