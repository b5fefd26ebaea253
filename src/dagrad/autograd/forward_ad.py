"""Forward-mode AD (placeholder while being built)."""
_active_level = None
