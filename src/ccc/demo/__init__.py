"""`ccc demo`: the whole system on one machine — a sandbox, a manager, worker processes and a live table."""
