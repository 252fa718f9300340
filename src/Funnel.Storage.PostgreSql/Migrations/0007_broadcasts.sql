-- Funnel broadcasts table (PostgreSQL). Runs with search_path set to the Funnel schema.
-- One row per scheduled broadcast (IBroadcastStore), keyed by its key, compared as bytes (COLLATE "C") as the
-- in-memory store orders them. The document is the Broadcast as jsonb (FunnelJson, with "v":1 and without its
-- version): the definition, the queuing cursor and the throttle slots, instants to the nanosecond. status
-- (0 scheduled, 1 queuing, 2 queued, 3 cancelled) and due_at (the start, or the end of the queuing claim's lease;
-- timestamptz, microseconds: the store checks now's own microsecond against the document) are copied from it for the
-- due list; `version` is the compare-and-set counter.

CREATE TABLE broadcasts (
    key text COLLATE "C" PRIMARY KEY,
    status smallint NOT NULL,
    due_at timestamptz NOT NULL,
    version bigint NOT NULL,
    document jsonb NOT NULL
);
-- Exactly the due list's predicate: open broadcasts (scheduled or queuing) only, earliest due first, then by key.
CREATE INDEX broadcasts_due ON broadcasts (due_at, key) WHERE status IN (0, 1);
