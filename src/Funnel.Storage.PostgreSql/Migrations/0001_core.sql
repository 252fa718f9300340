-- Funnel core tables (PostgreSQL). Runs with search_path set to the Funnel schema.
-- Each record is a jsonb document (FunnelJson, with a "v" shape version) plus only the columns a key, a constraint or
-- a query needs. Ids are uuid, instants timestamptz (microseconds).

-- The event log, append-only. Appends take a transaction-scoped advisory lock before they insert, so positions are
-- committed in order and a reader that has seen position p never sees a smaller one appear later. partition_key is
-- LogPartition.KeyOf(event) (a stable hash of the lead id): a pipeline partition reads partition_key % n = i.
-- payload is the FunnelEventSerializer JSON, which also holds type, id and occurredAt.
CREATE TABLE events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    type text NOT NULL,
    lead_id uuid,
    partition_key integer NOT NULL,
    occurred_at timestamptz NOT NULL,
    payload jsonb NOT NULL
);
CREATE INDEX events_lead ON events (lead_id, position) WHERE lead_id IS NOT NULL;

-- One lead per normalised email address; the whole LeadProfile is the profile document (its version is the column).
-- Two instances upserting one address: INSERT … ON CONFLICT DO NOTHING lets one win, the other re-reads and updates
-- with UPDATE … WHERE version = @v.
CREATE TABLE leads (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    version bigint NOT NULL,
    profile jsonb NOT NULL
);

-- One record per segment and lead; is_member is what the member listing filters on.
CREATE TABLE segment_members (
    segment text NOT NULL,
    lead_id uuid NOT NULL,
    is_member boolean NOT NULL,
    version bigint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (segment, lead_id)
);
CREATE INDEX segment_members_current ON segment_members (segment, lead_id) WHERE is_member;

-- Each pipeline handler's (or partition's) position in the log, retry state and lease, as one document.
CREATE TABLE event_subscriptions (
    name text PRIMARY KEY,
    version bigint NOT NULL,
    document jsonb NOT NULL
);

-- Events a handler gave up on, oldest position first.
CREATE TABLE parked_events (
    position bigint NOT NULL,
    handler text NOT NULL,
    version bigint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (position, handler)
);
