-- SQLite: `INTEGER PRIMARY KEY` is the rowid, generated when a row is inserted without it;
-- AUTOINCREMENT never reuses the key of a deleted row (clients may still hold it).
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    price REAL NOT NULL,
    in_stock BOOLEAN NOT NULL DEFAULT TRUE
);
