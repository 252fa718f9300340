-- Funnel.Sequences: the send outbox and its event log, enrolments, and the per-lead send days.
-- Instants are INTEGER Unix nanoseconds, ids TEXT, enums INTEGER (their declared values), local dates ISO TEXT.

-- One row per send (OutboxEntry), keyed by its idempotency key '{enrolment:N}:{step}'.
-- state: 0 pending, 1 sending, 2 sent, 3 failed-transient, 4 failed-permanent, 5 suppressed, 6 skipped, 7 cancelled.
-- due_at: the send, retry or lease-end instant. version: compare-and-set and fencing token.
CREATE TABLE outbox (
    key TEXT NOT NULL PRIMARY KEY,
    enrolment_id TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    sequence TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    scheduled_for INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    state INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    completed_at INTEGER,
    message_id TEXT,
    reason TEXT,
    outcome INTEGER,
    version INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Exactly the claim's predicate: only open entries are in it, earliest first (then by key).
CREATE INDEX outbox_due ON outbox (due_at) WHERE state IN (0, 1, 3);

-- Exactly the retention purge's predicate: final entries by completion.
CREATE INDEX outbox_completed ON outbox (completed_at) WHERE state IN (2, 4, 5, 6, 7);

-- The transactional event log of the outbox: the events of an entry change, written in the same transaction, handed
-- out with a lease (available_at) until acknowledged (deleted). seq keeps the order they were recorded in.
-- available_at: Unix nanoseconds; -9223372036854775808 means "at once". payload: the versioned event JSON.
CREATE TABLE outbox_events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    available_at INTEGER NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL
);

CREATE INDEX outbox_events_available ON outbox_events (available_at);

-- One row per enrolment; seq keeps the order they were added in (a lead's enrolments are listed oldest first).
-- status: 0 active, 1 completed, 2 exited, 3 awaiting consent. re_entry: the policy it was added under
-- (0 never, 1 after ended, 2 always). document: {"v":1, enrolledAt, anchor, lastSentAt, endedAt, fields}.
CREATE TABLE enrolments (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    lead_id TEXT NOT NULL,
    sequence TEXT NOT NULL,
    status INTEGER NOT NULL,
    re_entry INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    document TEXT NOT NULL
);

CREATE INDEX enrolments_lead ON enrolments (lead_id);

-- One not-ended enrolment per lead and sequence, among those added under a policy that forbids two at once.
CREATE UNIQUE INDEX enrolments_one_open ON enrolments (lead_id, sequence) WHERE status IN (0, 3) AND re_entry <> 2;

-- The per-lead frequency cap: the first send key to reserve a lead's local day holds it.
CREATE TABLE send_days (
    lead_id TEXT NOT NULL,
    day TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (lead_id, day)
) WITHOUT ROWID;
