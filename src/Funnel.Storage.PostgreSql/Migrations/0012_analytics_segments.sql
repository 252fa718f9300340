-- Funnel analytics segments (PostgreSQL). Runs with search_path set to the Funnel schema.
-- A compact, columnar copy of the event log's lead events and ad spend for analytics loads
-- (FunnelPostgreSqlAnalytics), written by WriteAnalyticsSegmentsAsync (or the hosted writer) as the log grows; the log
-- stays the source of truth, and a load reads the log's rows after analytics_progress.position itself. One row per
-- event type and run of up to 65,536 of its events in log order: `data` holds their lead ids (none for ad spend),
-- times (Unix ticks), the subject, channel, campaign and experiment variant of each as dictionary codes, amounts
-- (orders, refunds, ad spend) in minor units with their currency, and an identity link's visitor id (the format is
-- versioned inside). min_at/max_at bound the events' times, so a load reads only the segments that overlap its period.
-- `attributes` is false when some payload could not be read by the writer (an event type it did not know): such a
-- segment serves loads that need lead, time and type only.
-- The data is stored uncompressed (STORAGE EXTERNAL): lead ids do not compress, and reads stay cheap.

CREATE TABLE analytics_segments (
    type text COLLATE "C" NOT NULL,
    first_position bigint NOT NULL,
    last_position bigint NOT NULL,
    min_at timestamptz NOT NULL,
    max_at timestamptz NOT NULL,
    event_count integer NOT NULL,
    attributes boolean NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (type, first_position)
);
ALTER TABLE analytics_segments ALTER COLUMN data SET STORAGE EXTERNAL;

-- The log position up to which every lead event is in a segment. One row; the writer locks it, so one instance
-- writes at a time and the others skip their run.
CREATE TABLE analytics_progress (
    id smallint PRIMARY KEY CHECK (id = 1),
    position bigint NOT NULL
);
INSERT INTO analytics_progress (id, position) VALUES (1, 0);
