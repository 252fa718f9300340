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
