"""Tint's rows: models (db.models), engines and Alembic migrations (db.session), queries (db.queries).

Imports nothing else of Tint's; knows no images and no queue.
"""
