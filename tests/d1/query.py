"""Runs SQL statements against a worker's local D1 database, as `wrangler d1 execute
--local --json` would, and prints each one's rows as JSON: a list per statement. D1
keeps a local database in one SQLite file, which SQLite itself opens in milliseconds;
a run of wrangler starts node and workerd for it, which takes seconds.

    python query.py <database.sqlite> <statement>...

The statements run in one transaction, with foreign keys enforced as D1 enforces them,
and wait for the worker's own writes rather than fail.
"""
import json
import sqlite3
import sys

path, statements = sys.argv[1], sys.argv[2:]
db = sqlite3.connect(path, timeout=30, isolation_level=None)
db.row_factory = sqlite3.Row
db.execute("PRAGMA foreign_keys = ON")
db.execute("BEGIN IMMEDIATE")
results = [[dict(row) for row in db.execute(statement)] for statement in statements]
db.execute("COMMIT")
db.close()
# D1 answers a BLOB as a list of its bytes.
print(json.dumps(results, default=list))
