"""torch.backends.opt_einsum: dagrad's einsum asks NumPy to optimise the contraction order."""
enabled = True
strategy = "auto"


def is_available():
    return True


def get_opt_einsum():
    return None
