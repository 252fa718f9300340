-- Funnel.Sequences automatic winner tests of sequence emails (ISequenceTestStore). sequence_test_sends is a running
-- test's tally, one row per lead: the variant sent, when (INTEGER Unix nanoseconds) and whether the lead converted
-- (0 or 1). sequence_test_decisions holds each decided test: the winner, whether it was significant, the results as
-- JSON (FunnelJson: [{"variant":…,"sent":…,"converted":…}]) and when. A decision deletes its test's tally.

CREATE TABLE sequence_test_sends (
    test TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    converted INTEGER NOT NULL,
    PRIMARY KEY (test, lead_id)
) WITHOUT ROWID;

CREATE TABLE sequence_test_decisions (
    test TEXT NOT NULL PRIMARY KEY,
    winner TEXT NOT NULL,
    significant INTEGER NOT NULL,
    results TEXT NOT NULL,
    decided_at INTEGER NOT NULL
) WITHOUT ROWID;
