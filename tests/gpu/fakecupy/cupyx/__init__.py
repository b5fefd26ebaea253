"""Fake cupyx (see ../cupy/__init__.py): only cupyx.scipy.special.erf / erfinv."""
