"""The tiny graph in a loop, for instruction counting (deterministic under machine load):

    for n in 0 500; do valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \\
        python benchmarks/tiny_callgrind.py dagrad $n; done

instructions per iteration = (I refs at 500 - I refs at 0) / 500. Replace `dagrad` by `torch` for
PyTorch's count.
"""
import sys

lib, n = sys.argv[1], int(sys.argv[2])
m = __import__(lib)
a = m.rand(2, requires_grad=True)
b = m.rand(2, requires_grad=True)


def step():
    Q = 3 * a**3 - b**2
    Q.sum().backward()


for _ in range(50):
    step()
for _ in range(n):
    step()
