"""torch.nn.utils.rnn: pad_sequence (packed sequences are not implemented)."""


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    from ...creation import full
    max_len = max(s.shape[0] for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    n = len(sequences)
    out = full((n, max_len) + trailing, padding_value, dtype=sequences[0].dtype)
    from ...ops.movement import stack
    rows = []
    from ...ops.movement import cat
    for s in sequences:
        k = s.shape[0]
        if k == max_len:
            rows.append(s)
            continue
        padpart = out[0, :max_len - k]
        rows.append(cat([s, padpart]) if padding_side == "right" else cat([padpart, s]))
    r = stack(rows)
    return r if batch_first else r.transpose(0, 1)
