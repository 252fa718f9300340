-- Funnel subscriptions table (PostgreSQL). Runs with search_path set to the Funnel schema.
-- One row per subscription (ISubscriptionStore), keyed by its id. The document is the Subscription as jsonb (FunnelJson,
-- with "v":1 and without its version): plan, price and credit in minor units with their currency, time zone, period,
-- payment method, dunning state and the applied provider payment ids, instants to the nanosecond. Copied from it for
-- queries: lead_id and started_at for a lead's subscriptions, status (the SubscriptionStatus number) for operators, and
-- due_at (NULL when the renewal job never needs to look at it) for the due list; timestamptz keeps microseconds, so the
-- store checks now's own microsecond against the document. `version` is the compare-and-set counter and the fence
-- between app instances that renew the same subscription.

CREATE TABLE subscriptions (
    id uuid PRIMARY KEY,
    lead_id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    status smallint NOT NULL,
    due_at timestamptz,
    version bigint NOT NULL,
    document jsonb NOT NULL
);
-- A lead's subscriptions, oldest first.
CREATE INDEX subscriptions_lead ON subscriptions (lead_id, started_at, id);
-- Exactly the due list's predicate: subscriptions the renewal job must look at, earliest first, then by id.
CREATE INDEX subscriptions_due ON subscriptions (due_at, id) WHERE due_at IS NOT NULL;
