-- Small facts about the database itself. 'key_check' is a MAC made with the
-- master key: it tells, at start, whether the key file given is the one
-- this database was written with (the key itself is never stored here).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
