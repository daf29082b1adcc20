-- Language-model usage per Discord server (guild_id; '' for the
-- operator's own `briefbot brief`), for llm.guild_monthly_tokens. The
-- rows of 0003 keep their counts under ''. As SQLite's 0008.
ALTER TABLE llm_usage ADD COLUMN guild_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE llm_usage DROP CONSTRAINT llm_usage_pkey;
ALTER TABLE llm_usage ADD PRIMARY KEY (guild_id, day, model);
