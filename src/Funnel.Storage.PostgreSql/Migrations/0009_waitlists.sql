-- Funnel waitlists table (PostgreSQL). Runs with search_path set to the Funnel schema.
-- One row per limited offer with a waitlist (IWaitlistStore), keyed by the offer, compared as bytes (COLLATE "C") as
-- the in-memory store orders them. The document is the Waitlist as jsonb (FunnelJson, with "v":1 and without its
-- version): the leads waiting in order and the seats held for leads, instants to the nanosecond. next_expiry (the
-- earliest hold's lapse, NULL when no seat is held; timestamptz, microseconds: the store checks now's own microsecond
-- against the document) is copied from it for the due list; `version` is the compare-and-set counter.

CREATE TABLE waitlists (
    offer text COLLATE "C" PRIMARY KEY,
    next_expiry timestamptz,
    version bigint NOT NULL,
    document jsonb NOT NULL
);
-- Exactly the due list's predicate: waitlists holding a seat, earliest lapse first, then by offer.
CREATE INDEX waitlists_due ON waitlists (next_expiry, offer) WHERE next_expiry IS NOT NULL;
