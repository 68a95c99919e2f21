"""Alembic migrations for the persistence models, run through ``vividly_ray.persistence.migrate``.

The script directory is configured in code (see ``migrate.alembic_config``), so no alembic.ini
is needed; each file in ``versions`` moves the schema one revision forward or back.
"""
