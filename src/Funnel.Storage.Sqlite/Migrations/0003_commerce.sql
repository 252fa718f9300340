-- Funnel.Commerce: orders, the webhook inbox, seat holds, coupon redemptions and evergreen deadline starts.
-- Instants are INTEGER Unix nanoseconds and ids TEXT. A record is a JSON document (FunnelJson) plus the columns that
-- a key, a constraint or a query needs; `format` is the document's shape version (1 = this release), `version` the
-- compare-and-set counter. Tables of small rows are WITHOUT ROWID; those with documents keep the rowid (large rows).

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  lead_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  format INTEGER NOT NULL,
  document TEXT NOT NULL
);
CREATE INDEX orders_lead ON orders (lead_id);

-- The webhook inbox: TryAdd is INSERT … ON CONFLICT (event_id) DO NOTHING, so a redelivery is a duplicate forever.
-- order_id and payment_id come from the notification; claimed_until is the retry lease.
CREATE TABLE webhook_events (
  event_id TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL,
  status INTEGER NOT NULL,
  claimed_until INTEGER,
  order_id TEXT,
  payment_id TEXT,
  version INTEGER NOT NULL,
  format INTEGER NOT NULL,
  document TEXT NOT NULL
);
-- ListAsync(status, max) and the retry claim (status 0 received, 4 failed), oldest first.
CREATE INDEX webhook_events_status ON webhook_events (status, received_at, event_id);
-- ListParkedAsync(order, payment): only parked events (status 3) are indexed.
CREATE INDEX webhook_events_parked ON webhook_events (order_id, payment_id, received_at, event_id) WHERE status = 3;

-- A seat is taken by a confirmed hold or by an unexpired one; expired unconfirmed holds are deleted by the next
-- reservation of the offer.
CREATE TABLE seat_holds (
  id TEXT PRIMARY KEY,
  offer TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  confirmed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX seat_holds_offer ON seat_holds (offer, lead_id);

-- Redemptions per coupon and lead, and the total per coupon (kept in the same write, so a limit check reads one row).
-- code is the coupon code upper-cased (invariant), as codes compare case-insensitively.
CREATE TABLE coupon_redemptions (
  code TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (code, lead_id)
) WITHOUT ROWID;
CREATE TABLE coupon_totals (
  code TEXT PRIMARY KEY,
  total INTEGER NOT NULL
) WITHOUT ROWID;

-- The earliest start ever offered for an evergreen deadline and lead.
CREATE TABLE deadline_starts (
  deadline_key TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  PRIMARY KEY (deadline_key, lead_id)
) WITHOUT ROWID;
