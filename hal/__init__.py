"""Hardware abstraction layer: PLC points, register codec, read planning, polling.

Knows nothing of Qt, SQLAlchemy, the application core or the UI.
"""
