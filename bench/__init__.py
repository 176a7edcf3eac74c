"""The benchmark harness: `make bench` (or `python -m bench`).

A PostgreSQL database with 100,000 published demo projects, the production settings
served by gunicorn on the loopback, and wrk at fixed concurrency against the public
pages, two references (a trivial "floor" page through the same middleware, and the
Django admin's changelist of projects) and the full CSV export. The results go to
`bench/results/` (not committed) and `docs/performance.md`. See bench/run.py.
"""
