"""Names older tutorials and course notebooks use: legacy typed constructors, constants,
finfo/iinfo, torch.* aliases of methods and nn.functional, rot90/addcmul/splits, vmap."""
import math

import torch
import torch.nn.functional as F

x = torch.FloatTensor([[1, 2], [3, 4]])
print(x, x.type(), isinstance(x, torch.FloatTensor), isinstance(x, torch.LongTensor))
print(torch.LongTensor([1, 2, 3]), torch.FloatTensor(2, 3).shape, torch.ByteTensor([1, 2]).dtype)
print(torch.DoubleTensor([0.5]).dtype, torch.BoolTensor([1, 0]))
print(torch.pi == math.pi, torch.e, torch.inf, torch.tensor([torch.nan]).isnan())
print(torch.finfo(torch.float32).eps, torch.finfo(torch.float64).tiny, torch.iinfo(torch.int8).min)
print(torch.finfo(torch.float16))
print(torch.iinfo(torch.int32).max)
eps = torch.finfo(x.dtype).eps
print(torch.log(torch.tensor([0.0]) + eps))

a = torch.arange(6.).reshape(2, 3)
print(torch.multiply(a, 2), torch.subtract(a, 1), torch.divide(a, 4))
print(torch.detach(a.clone().requires_grad_()).requires_grad)
r = torch.rot90(torch.ones(2, 3, requires_grad=True))
print(r.grad_fn.name(), r.shape)
print(torch.rot90(a), torch.rot90(a, 2, [0, 1]), a.rot90(-1))
print(torch.addcmul(torch.ones(3), torch.arange(3.), torch.tensor([2., 2., 2.]), value=0.5))
print(torch.addcdiv(torch.zeros(3), torch.ones(3), torch.tensor([1., 2., 4.])))
print(torch.vsplit(torch.arange(12).reshape(4, 3), 2))
print(torch.hsplit(torch.arange(12).reshape(3, 4), [1, 3]))
print(torch.row_stack([torch.ones(2), torch.zeros(2)]))
print(torch.typename(a), torch.is_same_size(a, a.T), torch.is_signed(torch.tensor([1], dtype=torch.uint8)))

img = torch.sin(torch.arange(32.)).reshape(1, 2, 4, 4)
w = torch.linspace(-0.5, 0.5, 3 * 2 * 3 * 3).reshape(3, 2, 3, 3)
print(torch.equal(torch.conv2d(img, w, padding=1), F.conv2d(img, w, padding=1)))
print(torch.max_pool2d(img, 2))
print(torch.dropout(img, 0.5, False).equal(img), torch.cosine_similarity(a, a + 1))
print(torch.layer_norm(a, (3,)))
print(torch.pixel_shuffle(torch.arange(8.).reshape(1, 4, 1, 2), 2))

from torch.func import grad, vmap  # noqa: E402

print(torch.vmap(torch.dot)(torch.ones(3, 2), torch.arange(6.).reshape(3, 2)))
print(vmap(grad(lambda t: (t ** 2).sum()))(torch.arange(4.).reshape(2, 2)))

x = torch.arange(24.).reshape(2, 3, 4)
print(x.unfold(2, 2, 1).shape, x.unfold(2, 2, 2), torch.arange(7).unfold(0, 3, 2))
y = torch.arange(6., requires_grad=True)
y.unfold(0, 3, 1).sum().backward()
print(y.grad)
print(torch.ones(2, 3).apply_(lambda v: v * 3 + 1))
print(torch.zeros(3, 3).fill_diagonal_(5), torch.zeros(7, 3).fill_diagonal_(1, wrap=True))
v = torch.autograd.Variable(torch.ones(2), requires_grad=True)
print(v, v.is_leaf, torch.get_num_threads() > 0)

xs = torch.arange(6.).reshape(3, 2)
print(torch.vmap(torch.sin)(xs), torch.vmap(torch.dot)(xs, xs + 1), torch.vmap(torch.Tensor.sum)(xs))
print(torch.vmap(torch.mv, in_dims=(None, 0))(torch.ones(2, 2), xs))
print(torch.func.vmap(torch.func.grad(torch.sum))(xs))
