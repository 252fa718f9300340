-- Funnel.Commerce invoices and credit notes (PostgreSQL). Runs with search_path set to the Funnel schema.
-- A document is numbered per seller (its VAT number) and series with no gap: an issue increments the series' row of
-- invoice_counters (INSERT … ON CONFLICT DO UPDATE, which locks it until commit) and inserts the document in the same
-- transaction, so issues of one series are serialised across every instance and a rolled-back issue frees its
-- number. issue_key makes issuing idempotent per seller. kind: 0 invoice, 1 credit note.

CREATE TABLE invoice_counters (
    seller text COLLATE "C" NOT NULL,
    series text COLLATE "C" NOT NULL,
    last_number bigint NOT NULL,
    PRIMARY KEY (seller, series)
);

CREATE TABLE invoices (
    seller text COLLATE "C" NOT NULL,
    series text COLLATE "C" NOT NULL,
    number bigint NOT NULL,
    issue_key text COLLATE "C" NOT NULL,
    order_id uuid NOT NULL,
    kind smallint NOT NULL,
    format smallint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (seller, series, number),
    UNIQUE (seller, issue_key)
);
CREATE INDEX invoices_order ON invoices (seller, order_id, kind, number);
