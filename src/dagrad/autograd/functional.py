"""autograd.functional (being built)."""
