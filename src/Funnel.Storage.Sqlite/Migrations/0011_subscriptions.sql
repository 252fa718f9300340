-- Funnel.Commerce subscriptions: one row per subscription (ISubscriptionStore), keyed by its id (TEXT, GUID "D"
-- format). The document is the Subscription as JSON (FunnelJson, wrapped with "v":1 and without its version): plan,
-- price and credit in minor units with their currency, time zone, period, payment method, dunning state and the
-- applied provider payment ids, instants to the nanosecond. Copied from it for queries: lead_id and started_at
-- (INTEGER Unix nanoseconds) for a lead's subscriptions, status (the SubscriptionStatus number) for operators, and
-- due_at (INTEGER Unix nanoseconds, NULL when the renewal job never needs to look at it) for the due list; `version`
-- is the compare-and-set counter.

CREATE TABLE subscriptions (
    id TEXT NOT NULL PRIMARY KEY,
    lead_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    due_at INTEGER,
    version INTEGER NOT NULL,
    document TEXT NOT NULL
) WITHOUT ROWID;
-- A lead's subscriptions, oldest first.
CREATE INDEX subscriptions_lead ON subscriptions (lead_id, started_at, id);
-- Exactly the due list's predicate: subscriptions the renewal job must look at, earliest first, then by id.
CREATE INDEX subscriptions_due ON subscriptions (due_at, id) WHERE due_at IS NOT NULL;
