"""The reference app's migrations (package data of ``sessionstore``; read with importlib.resources)."""
