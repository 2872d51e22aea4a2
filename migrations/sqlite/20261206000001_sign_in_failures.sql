-- Failed sign-ins per account and per client address in the current window, shared by every
-- replica (a window restarts with the first failure after it ends; rows of ended windows are
-- forgotten, a row still over its limit never is).

CREATE TABLE sign_in_failures (
    key             TEXT PRIMARY KEY NOT NULL,
    window_start_ms BIGINT NOT NULL,
    failures        INTEGER NOT NULL,
    -- Whether the last attempt was refused (over the limit: not counted).
    last_refused    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX sign_in_failures_by_window ON sign_in_failures (window_start_ms);
