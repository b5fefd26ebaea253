"""The tiny graph in a loop, for instruction counting (deterministic under machine load):

    for n in 1000 3000; do PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind \\
        --callgrind-out-file=/tmp/cg.$n python benchmarks/tiny_callgrind.py dagrad $n; done

instructions per iteration = (I refs at 3000 - I refs at 1000) / 2000. Replace `dagrad` by
`torch` for PyTorch's count, or by `numpy` for the floor: the same forward and backward written
by hand in NumPy (the same NumPy calls dagrad's kernels make, no graph).
"""
import gc
import sys

lib, n = sys.argv[1], int(sys.argv[2])

if lib == "numpy":
    import numpy as np
    A = np.random.rand(2).astype(np.float32)
    B = np.random.rand(2).astype(np.float32)
    GA = np.zeros(2, np.float32)
    GB = np.zeros(2, np.float32)
    THREE = np.array(3, np.float32)

    def step():
        a3 = A * A * A
        q = THREE * a3 - B * B
        q.sum()
        g = np.empty(2, np.float32)
        g.fill(1)                       # sum's backward
        gm = g * THREE                  # 3 * x
        GA.__iadd__(gm * (A * A * THREE))  # a**3
        GB.__iadd__(-g * (B + B))       # - b**2
else:
    m = __import__(lib)
    a = m.rand(2, requires_grad=True)
    b = m.rand(2, requires_grad=True)

    def step():
        Q = 3 * a**3 - b**2
        Q.sum().backward()

gc.disable()
for _ in range(50):
    step()
for _ in range(n):
    step()
