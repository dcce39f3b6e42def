"""Legacy daemon databases, built the way each historical build left them.

See :mod:`tests.legacy.builder`; ``python -m tests.legacy PATH [SHAPE]`` writes one.
"""
