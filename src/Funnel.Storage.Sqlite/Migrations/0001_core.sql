-- Funnel.Core: leads, segment memberships, the event log, handler positions and parked events.
-- Each record is a JSON document (FunnelJson, with a "v" shape version) plus only the columns a key, a constraint or
-- a query needs. Ids are TEXT (GUID "D", lower case), instants INTEGER Unix nanoseconds.

-- One lead per normalised email address; the whole LeadProfile is the document (its version is the column).
CREATE TABLE leads (
    id TEXT NOT NULL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    profile TEXT NOT NULL
);

-- One record per segment and lead; is_member is what the member listing filters on.
CREATE TABLE segment_members (
    segment TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    is_member INTEGER NOT NULL,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (segment, lead_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_current ON segment_members (segment, lead_id) WHERE is_member = 1;

-- The event log, append-only. position is the rowid: each insert takes the largest position plus one, so a duplicate
-- that ON CONFLICT skips spends no position (AUTOINCREMENT would spend one, and costs a sqlite_sequence write per
-- insert). Positions are never reused because no event is ever deleted; a future purge must keep the newest row.
-- payload is the FunnelEventSerializer JSON, which also holds type, id and occurredAt.
CREATE TABLE events (
    position INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    lead_id TEXT,
    occurred_at INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX events_lead ON events (lead_id, position) WHERE lead_id IS NOT NULL;

-- Each pipeline handler's position in the log and retry state.
CREATE TABLE event_subscriptions (
    name TEXT NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL,
    document TEXT NOT NULL
) WITHOUT ROWID;

-- Events a handler gave up on, oldest position first.
CREATE TABLE parked_events (
    position INTEGER NOT NULL,
    handler TEXT NOT NULL,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (position, handler)
) WITHOUT ROWID;
