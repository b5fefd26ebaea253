"""torch.backends.mkldnn (oneDNN): not used by dagrad; the flag is kept for scripts."""
enabled = True


def is_available():
    return False
