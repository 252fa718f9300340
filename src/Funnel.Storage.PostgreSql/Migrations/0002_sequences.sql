-- Funnel sequences tables (PostgreSQL). Runs with search_path set to the Funnel schema.
-- The send outbox and its event log, enrolments, and the per-lead send days. Ids are uuid, instants timestamptz
-- (microseconds), enums smallint (their declared values), local dates date.

-- One row per send (OutboxEntry), keyed by its idempotency key '{enrolment:N}:{step}'.
-- state: 0 pending, 1 sending, 2 sent, 3 failed-transient, 4 failed-permanent, 5 suppressed, 6 skipped, 7 cancelled.
-- due_at: the send, retry or lease-end instant, rounded up to the microsecond (never due early).
-- version: compare-and-set and fencing token; every change adds one.
-- A queue table: claims move due_at and completions leave the partial index, so dead tuples gather at the front of
-- outbox_due. Vacuum it early (1% of the rows, no cost delay) and leave room on each page for HOT updates.
CREATE TABLE outbox (
    key text PRIMARY KEY,
    enrolment_id uuid NOT NULL,
    lead_id uuid NOT NULL,
    sequence text NOT NULL,
    step_index integer NOT NULL,
    scheduled_for timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    state smallint NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    claimed_by text,
    completed_at timestamptz,
    message_id text,
    reason text,
    outcome smallint,
    version bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_cost_delay = 0);

-- Exactly the claim's predicate: only open entries are in it, earliest first.
CREATE INDEX outbox_due ON outbox (due_at) WHERE state IN (0, 1, 3);

-- Exactly the retention purge's predicate: final entries by completion.
CREATE INDEX outbox_completed ON outbox (completed_at, key) WHERE state IN (2, 4, 5, 6, 7);

-- The transactional event log of the outbox: the events of an entry change, inserted in the same statement as the
-- change, handed out with a lease (available_at) until acknowledged (deleted). seq keeps the order they were recorded
-- in. available_at '-infinity' means "at once". payload: the versioned event JSON (FunnelEventSerializer).
CREATE TABLE outbox_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    available_at timestamptz NOT NULL DEFAULT '-infinity',
    type text NOT NULL,
    payload jsonb NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_cost_delay = 0);

CREATE INDEX outbox_events_available ON outbox_events (available_at, seq);

-- One row per enrolment; seq keeps the order they were added in (a lead's enrolments are listed oldest first).
-- status: 0 active, 1 completed, 2 exited, 3 awaiting consent. re_entry: the policy it was added under
-- (0 never, 1 after ended, 2 always). document: {"v":1, enrolledAt, anchor, lastSentAt, endedAt, fields}, which holds
-- the instants to the nanosecond.
CREATE TABLE enrolments (
    id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    lead_id uuid NOT NULL,
    sequence text NOT NULL,
    status smallint NOT NULL,
    re_entry smallint NOT NULL,
    version bigint NOT NULL DEFAULT 0,
    document jsonb NOT NULL
) WITH (fillfactor = 90);

CREATE INDEX enrolments_lead ON enrolments (lead_id, seq);

-- One not-ended enrolment per lead and sequence, among those added under a policy that forbids two at once: of two
-- racing adds, this index lets one through.
CREATE UNIQUE INDEX enrolments_one_open ON enrolments (lead_id, sequence) WHERE status IN (0, 3) AND re_entry <> 2;

-- The per-lead frequency cap: the first send key to reserve a lead's local day holds it.
CREATE TABLE send_days (
    lead_id uuid NOT NULL,
    day date NOT NULL,
    key text NOT NULL,
    PRIMARY KEY (lead_id, day)
);
