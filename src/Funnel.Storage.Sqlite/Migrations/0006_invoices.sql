-- Funnel.Commerce invoices and credit notes. A document is numbered per seller (its VAT number) and series with no gap:
-- the number comes from invoice_counters in the same write as the insert, and SQLite has one writer, so numbers run
-- 1, 2, 3… whatever the concurrency. issue_key makes issuing idempotent per seller. kind: 0 invoice, 1 credit note.

CREATE TABLE invoice_counters (
  seller TEXT NOT NULL,
  series TEXT NOT NULL,
  last_number INTEGER NOT NULL,
  PRIMARY KEY (seller, series)
) WITHOUT ROWID;

CREATE TABLE invoices (
  seller TEXT NOT NULL,
  series TEXT NOT NULL,
  number INTEGER NOT NULL,
  issue_key TEXT NOT NULL,
  order_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  format INTEGER NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (seller, series, number),
  UNIQUE (seller, issue_key)
);
CREATE INDEX invoices_order ON invoices (seller, order_id, kind, number);
