-- Funnel commerce tables (PostgreSQL). Runs with search_path set to the Funnel schema.
-- Orders, the webhook inbox, seat holds, coupon redemptions and evergreen deadline starts. A record is a jsonb document
-- (FunnelJson, the same document as Funnel.Storage.Sqlite writes) plus the columns a key, a constraint or a query
-- needs; `format` is the document's shape version (1 = this release), `version` the compare-and-set counter. Text keys
-- compare as bytes (COLLATE "C"), as the in-memory stores order them. Instants are timestamptz (microseconds); the
-- document keeps nanoseconds.

CREATE TABLE orders (
    id uuid PRIMARY KEY,
    lead_id uuid NOT NULL,
    version bigint NOT NULL,
    format smallint NOT NULL,
    document jsonb NOT NULL
);
CREATE INDEX orders_lead ON orders (lead_id);

-- The webhook inbox: TryAdd is INSERT … ON CONFLICT (event_id) DO NOTHING, so a redelivery is a duplicate forever.
-- order_id and payment_id come from the notification. claimed_until is the retry lease, rounded up to the microsecond
-- so a claim never ends early; a claim takes its rows FOR UPDATE SKIP LOCKED, so instances claim different events.
CREATE TABLE webhook_events (
    event_id text COLLATE "C" PRIMARY KEY,
    received_at timestamptz NOT NULL,
    status smallint NOT NULL,
    claimed_until timestamptz,
    order_id uuid,
    payment_id text COLLATE "C",
    version bigint NOT NULL,
    format smallint NOT NULL,
    document jsonb NOT NULL
);
-- ListAsync(status, max), oldest first.
CREATE INDEX webhook_events_status ON webhook_events (status, received_at, event_id);
-- The retry claim: received (0) and failed (4) events only, oldest first; processed events leave it.
CREATE INDEX webhook_events_retry ON webhook_events (received_at, event_id) WHERE status IN (0, 4);
-- ListParkedAsync(order, payment): only parked events (status 3).
CREATE INDEX webhook_events_parked ON webhook_events (order_id, payment_id, received_at, event_id) WHERE status = 3;
ALTER TABLE webhook_events SET (autovacuum_vacuum_scale_factor = 0.05);

-- One row per offer with limited seats: a reservation locks it (FOR UPDATE) before it counts, so reservations of an
-- offer run one at a time across every instance.
CREATE TABLE seat_offers (
    offer text COLLATE "C" PRIMARY KEY
);
-- A seat is taken by a confirmed hold or by an unexpired one; expired unconfirmed holds are deleted by the next
-- reservation of the offer. expires_at is whole microseconds (the store truncates the hold's end), so it is exact.
CREATE TABLE seat_holds (
    id uuid PRIMARY KEY,
    offer text COLLATE "C" NOT NULL,
    lead_id uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    confirmed boolean NOT NULL DEFAULT false
);
CREATE INDEX seat_holds_offer ON seat_holds (offer, lead_id);

-- Redemptions per coupon and lead, and the total per coupon. A redemption increments both rows with conditional
-- upserts (lead row first, then the total) in one transaction, so the row locks keep both limits.
-- code is the coupon code upper-cased (invariant), as codes compare case-insensitively.
CREATE TABLE coupon_redemptions (
    code text COLLATE "C" NOT NULL,
    lead_id uuid NOT NULL,
    count integer NOT NULL,
    PRIMARY KEY (code, lead_id)
);
CREATE TABLE coupon_totals (
    code text COLLATE "C" PRIMARY KEY,
    total integer NOT NULL
);

-- The earliest start ever offered for an evergreen deadline and lead (an upsert that keeps the least).
CREATE TABLE deadline_starts (
    deadline_key text COLLATE "C" NOT NULL,
    lead_id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    PRIMARY KEY (deadline_key, lead_id)
);
