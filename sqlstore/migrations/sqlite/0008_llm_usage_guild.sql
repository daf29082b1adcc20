-- Language-model usage per Discord server (guild_id; '' for the
-- operator's own `briefbot brief`), for llm.guild_monthly_tokens. The
-- rows of 0007 keep their counts under ''.
CREATE TABLE llm_usage_by_guild (
    day               INTEGER NOT NULL,
    guild_id          TEXT    NOT NULL DEFAULT '',
    model             TEXT    NOT NULL,
    calls             INTEGER NOT NULL DEFAULT 0 CHECK (calls >= 0),
    failed_calls      INTEGER NOT NULL DEFAULT 0 CHECK (failed_calls >= 0),
    prompt_tokens     INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    PRIMARY KEY (guild_id, day, model)
) STRICT, WITHOUT ROWID;

INSERT INTO llm_usage_by_guild (day, guild_id, model, calls, failed_calls, prompt_tokens, completion_tokens)
    SELECT day, '', model, calls, failed_calls, prompt_tokens, completion_tokens FROM llm_usage;
DROP TABLE llm_usage;
ALTER TABLE llm_usage_by_guild RENAME TO llm_usage;
