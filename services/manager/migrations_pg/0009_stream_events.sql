-- PostgreSQL only: the event stream shared by the replicas (common/shared_events.hpp). Ids
-- are given in commit order (inserts take a transaction-level advisory lock); a NOTIFY on
-- manager_events carries each new id. The newest events are kept for Last-Event-ID replay.
CREATE TABLE stream_events (
  id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type TEXT COLLATE "C" NOT NULL,
  data TEXT NOT NULL,
  at   BIGINT NOT NULL  -- unix seconds
);
