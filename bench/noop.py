"""A no-op Celery task, the baseline of bench/fanout.py.

Loaded by the benchmark's worker only (`celery … worker --include bench.noop`);
the application never imports it.
"""

from config.celery import app


@app.task(name="bench.noop")
def noop(i: int) -> None:
    """Nothing: what the broker and the worker cost per task on their own."""
    return None
