-- Funnel.Core: leads, segment memberships, the event log, handler positions and parked events.
CREATE TABLE funnel_placeholder (id INTEGER PRIMARY KEY);
