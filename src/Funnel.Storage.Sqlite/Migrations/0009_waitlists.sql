-- Funnel.Commerce waitlists: one row per limited offer with a waitlist (IWaitlistStore), keyed by the offer. The
-- document is the Waitlist as JSON (FunnelJson, wrapped with "v":1 and without its version): the leads waiting in
-- order and the seats held for leads. next_expiry (INTEGER Unix nanoseconds, NULL when no seat is held) is copied from
-- it for the due list of lapsed holds; `version` is the compare-and-set counter.

CREATE TABLE waitlists (
    offer TEXT NOT NULL PRIMARY KEY,
    next_expiry INTEGER,
    version INTEGER NOT NULL,
    document TEXT NOT NULL
) WITHOUT ROWID;
-- Exactly the due list's predicate: waitlists holding a seat, earliest lapse first, then by offer.
CREATE INDEX waitlists_due ON waitlists (next_expiry, offer) WHERE next_expiry IS NOT NULL;
