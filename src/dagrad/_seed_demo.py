"""The seed's autograd example (sections 3 and 6), printed step by step."""


def main():
    import dagrad as torch
    print("dagrad: the seed's autograd example\n")
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a**3 - b**2
    print("a =", a)
    print("b =", b)
    print("Q = 3*a**3 - b**2 =", Q)
    print("Q.grad_fn.next_functions =", Q.grad_fn.next_functions)
    Q.backward(gradient=torch.tensor([1., 1.]))
    print("a.grad =", a.grad, "  (9*a**2 =", (9 * a**2).detach(), ")")
    print("b.grad =", b.grad, "  (-2*b =", (-2 * b).detach(), ")")
    print(9 * a**2 == a.grad)
    print(-2 * b == b.grad)
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    print(f"Does `a` require gradients?: {(x + y).requires_grad}")
    print(f"Does `b` require gradients?: {(x + z).requires_grad}")
