-- Funnel cart-recovery table (PostgreSQL). Runs with search_path set to the Funnel schema.
-- The latest checkout of each lead and offer (ICheckoutStore), until an order closes it (status 1) or its
-- checkout_abandoned is emitted (status 2). `version` is the compare-and-set counter; claimed_until is the emission
-- lease, rounded up to the microsecond so a claim never ends early. A claim takes its rows FOR UPDATE SKIP LOCKED, so
-- instances claiming at once take different checkouts. Instants are timestamptz (microseconds).

CREATE TABLE checkouts (
    lead_id uuid NOT NULL,
    offer text COLLATE "C" NOT NULL,
    checkout_id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    status smallint NOT NULL,
    claimed_by text,
    claimed_until timestamptz,
    version bigint NOT NULL,
    PRIMARY KEY (lead_id, offer)
);
-- The claim: open checkouts (status 0) only, earliest due first.
CREATE INDEX checkouts_due ON checkouts (due_at) WHERE status = 0;
