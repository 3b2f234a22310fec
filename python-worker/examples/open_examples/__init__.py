"""Example task modules used by the OPEN Java examples (NumPy, pandas, scikit-learn).

Start a worker for them with ``--allow 'open_examples.*'`` and ``python-worker/examples`` on
``PYTHONPATH``. Every function takes and returns protocol values (lists, dicts, numbers,
NumPy arrays), so the Java side never needs pandas or scikit-learn types.
"""
