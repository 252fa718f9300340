-- Funnel advocacy tables (PostgreSQL). Runs with search_path set to the Funnel schema.
-- Funnel.Advocacy: affiliates, clicks, sales, payouts, referrers, referrals, reviews, course progress, entitlements
-- and webinar registrations. A document table holds the record as jsonb (FunnelJson, with "v":1 and without its
-- version) in `document`, the store version in `version` (0 when added, +1 per replacement: the compare-and-set) and
-- only the columns a key, a unique constraint or a query needs. Ids are uuid; instants timestamptz (microseconds: the
-- document keeps the nanoseconds, and the stores check a bound's own microsecond against it). Every uniqueness rule is
-- a unique index, so racing inserts from several app instances give one winner (INSERT … ON CONFLICT DO NOTHING).
-- `seq` (identity) keeps the order rows were added, for listings in that order and as the tie-break of a time order.

CREATE TABLE affiliates (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE,
    lead_id uuid NOT NULL UNIQUE,
    version bigint NOT NULL,
    document jsonb NOT NULL
);

-- Clicks and payouts are inserted once and never changed: no version.
CREATE TABLE affiliate_clicks (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    visitor_id uuid NOT NULL,
    at timestamptz NOT NULL,
    document jsonb NOT NULL
);
CREATE INDEX affiliate_clicks_visitor ON affiliate_clicks (visitor_id, seq);

CREATE TABLE affiliate_payouts (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    affiliate_id uuid NOT NULL,
    document jsonb NOT NULL
);
CREATE INDEX affiliate_payouts_affiliate ON affiliate_payouts (affiliate_id, seq);

-- pending_clears_at: the earliest ClearsAt of the sale's pending ledger entries; NULL when none is pending.
CREATE TABLE affiliate_sales (
    order_id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    affiliate_id uuid NOT NULL,
    sale_number integer NOT NULL,
    pending_clears_at timestamptz,
    version bigint NOT NULL,
    document jsonb NOT NULL
);
CREATE INDEX affiliate_sales_affiliate ON affiliate_sales (affiliate_id, sale_number, seq);
CREATE INDEX affiliate_sales_pending ON affiliate_sales (pending_clears_at, seq) WHERE pending_clears_at IS NOT NULL;

CREATE TABLE referrers (
    lead_id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE,
    version bigint NOT NULL,
    document jsonb NOT NULL
);

-- purchased_clears_at: ClearsAt while the referral is Purchased; NULL otherwise.
CREATE TABLE referrals (
    friend_id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    purchased_clears_at timestamptz,
    version bigint NOT NULL,
    document jsonb NOT NULL
);
CREATE INDEX referrals_purchased ON referrals (purchased_clears_at, seq) WHERE purchased_clears_at IS NOT NULL;

CREATE TABLE reviews (
    id uuid PRIMARY KEY,
    product text NOT NULL,
    submitted_at timestamptz NOT NULL,
    version bigint NOT NULL,
    document jsonb NOT NULL
);
CREATE INDEX reviews_product ON reviews (product, submitted_at DESC, id);

-- One row per completed module: the primary key makes "a module is added once" a plain insert.
CREATE TABLE course_progress (
    lead_id uuid NOT NULL,
    course text NOT NULL,
    module text NOT NULL,
    PRIMARY KEY (lead_id, course, module)
);

CREATE TABLE entitlements (
    lead_id uuid NOT NULL,
    product text NOT NULL,
    order_id uuid NOT NULL,
    version bigint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (lead_id, product, order_id)
);

-- unrecorded_ends_at: the session's end while the lead neither attended nor has a recorded no-show; NULL otherwise.
CREATE TABLE webinar_registrations (
    webinar text NOT NULL,
    lead_id uuid NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    unrecorded_ends_at timestamptz,
    version bigint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (webinar, lead_id)
);
CREATE INDEX webinar_registrations_unrecorded ON webinar_registrations (unrecorded_ends_at, seq)
    WHERE unrecorded_ends_at IS NOT NULL;
