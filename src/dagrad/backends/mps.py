"""torch.backends.mps: Apple's Metal backend is not available in dagrad."""


def is_available():
    return False


def is_built():
    return False


def is_macos13_or_newer(minor=0):
    return False
