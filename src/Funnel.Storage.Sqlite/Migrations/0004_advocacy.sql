-- Funnel.Advocacy: affiliates, clicks, sales, payouts, referrers, referrals, reviews, course progress, entitlements
-- and webinar registrations.
-- A document table holds the record as JSON (FunnelJson, wrapped with "v":1 and without its version) in `document`,
-- the store version in `version` (0 when added, +1 per replacement: the compare-and-set) and only the columns a key,
-- a unique constraint or a query needs. Ids are TEXT (GUID "D"), instants INTEGER Unix nanoseconds. New record
-- properties go into the JSON, not into a migration.

CREATE TABLE affiliates (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  lead_id TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL,
  document TEXT NOT NULL);

-- Clicks and payouts are inserted once and never changed: no version. seq keeps the order they were added (an
-- index entry ends with the rowid, seq, so the per-visitor and per-affiliate indexes list in that order).
CREATE TABLE affiliate_clicks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  visitor_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  document TEXT NOT NULL);
CREATE INDEX affiliate_clicks_visitor ON affiliate_clicks (visitor_id);

CREATE TABLE affiliate_payouts (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  affiliate_id TEXT NOT NULL,
  document TEXT NOT NULL);
CREATE INDEX affiliate_payouts_affiliate ON affiliate_payouts (affiliate_id);

-- pending_clears_at: the earliest ClearsAt of the sale's pending ledger entries; NULL when none is pending.
CREATE TABLE affiliate_sales (
  order_id TEXT PRIMARY KEY,
  affiliate_id TEXT NOT NULL,
  sale_number INTEGER NOT NULL,
  pending_clears_at INTEGER,
  version INTEGER NOT NULL,
  document TEXT NOT NULL);
CREATE INDEX affiliate_sales_affiliate ON affiliate_sales (affiliate_id, sale_number);
CREATE INDEX affiliate_sales_pending ON affiliate_sales (pending_clears_at) WHERE pending_clears_at IS NOT NULL;

CREATE TABLE referrers (
  lead_id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL,
  document TEXT NOT NULL);

-- purchased_clears_at: ClearsAt while the referral is Purchased; NULL otherwise.
CREATE TABLE referrals (
  friend_id TEXT PRIMARY KEY,
  purchased_clears_at INTEGER,
  version INTEGER NOT NULL,
  document TEXT NOT NULL);
CREATE INDEX referrals_purchased ON referrals (purchased_clears_at) WHERE purchased_clears_at IS NOT NULL;

CREATE TABLE reviews (
  id TEXT PRIMARY KEY,
  product TEXT NOT NULL,
  submitted_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  document TEXT NOT NULL);
CREATE INDEX reviews_product ON reviews (product, submitted_at DESC, id);

-- One row per completed module: the primary key makes "a module is added once" a plain insert.
CREATE TABLE course_progress (
  lead_id TEXT NOT NULL,
  course TEXT NOT NULL,
  module TEXT NOT NULL,
  PRIMARY KEY (lead_id, course, module)) WITHOUT ROWID;

CREATE TABLE entitlements (
  lead_id TEXT NOT NULL,
  product TEXT NOT NULL,
  order_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (lead_id, product, order_id)) WITHOUT ROWID;

-- unrecorded_ends_at: the session's end while the lead neither attended nor has a recorded no-show; NULL otherwise.
CREATE TABLE webinar_registrations (
  webinar TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  unrecorded_ends_at INTEGER,
  version INTEGER NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (webinar, lead_id));
CREATE INDEX webinar_registrations_unrecorded ON webinar_registrations (unrecorded_ends_at)
  WHERE unrecorded_ends_at IS NOT NULL;
