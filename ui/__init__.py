"""PySide6 widgets and Qt models; the only layer that imports Qt."""
