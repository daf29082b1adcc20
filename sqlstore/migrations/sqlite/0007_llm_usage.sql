-- Language-model usage: the chat completion calls of each UTC day, per
-- model, with the tokens the server reported (llm.Config.OnCall), so that
-- `briefbot status` can show this month's spend. day is the UTC midnight
-- starting the day, in Unix milliseconds.
CREATE TABLE llm_usage (
    day               INTEGER NOT NULL,
    model             TEXT    NOT NULL,
    calls             INTEGER NOT NULL DEFAULT 0 CHECK (calls >= 0),
    failed_calls      INTEGER NOT NULL DEFAULT 0 CHECK (failed_calls >= 0),
    prompt_tokens     INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    PRIMARY KEY (day, model)
) STRICT, WITHOUT ROWID;

-- RecentDeliveries: the last deliveries touched, newest first.
CREATE INDEX deliveries_updated ON deliveries (updated_at);
