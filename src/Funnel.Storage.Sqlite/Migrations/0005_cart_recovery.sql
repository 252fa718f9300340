-- Funnel.Commerce cart recovery: the latest checkout of each lead and offer (ICheckoutStore), until an order closes it
-- (status 1) or its checkout_abandoned is emitted (status 2). Instants are INTEGER Unix nanoseconds and ids TEXT;
-- `version` is the compare-and-set counter, claimed_until the emission lease.

CREATE TABLE checkouts (
  lead_id TEXT NOT NULL,
  offer TEXT NOT NULL,
  checkout_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  status INTEGER NOT NULL,
  claimed_by TEXT,
  claimed_until INTEGER,
  version INTEGER NOT NULL,
  PRIMARY KEY (lead_id, offer)
) WITHOUT ROWID;
-- The claim: open checkouts (status 0) only, earliest due first.
CREATE INDEX checkouts_due ON checkouts (due_at) WHERE status = 0;
