-- Funnel.Sequences automatic winner tests of sequence emails (PostgreSQL, ISequenceTestStore). Runs with search_path
-- set to the Funnel schema. sequence_test_sends is a running test's tally, one row per lead: the variant sent, when
-- (timestamptz, microseconds) and whether the lead converted. sequence_test_decisions holds each decided test: the
-- winner, whether it was significant, the results as jsonb (FunnelJson: [{"variant":…,"sent":…,"converted":…}]) and
-- when. A decision deletes its test's tally. Keys compare as bytes (COLLATE "C"), as the in-memory store orders them.

CREATE TABLE sequence_test_sends (
    test text COLLATE "C" NOT NULL,
    lead_id uuid NOT NULL,
    variant text COLLATE "C" NOT NULL,
    sent_at timestamptz NOT NULL,
    converted boolean NOT NULL,
    PRIMARY KEY (test, lead_id)
);

CREATE TABLE sequence_test_decisions (
    test text COLLATE "C" PRIMARY KEY,
    winner text NOT NULL,
    significant boolean NOT NULL,
    results jsonb NOT NULL,
    decided_at timestamptz NOT NULL
);
