"""Tensors tutorial: creation, attributes, indexing, slicing, joining."""
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print(x_data)
print(x_data.dtype, x_data.shape)

np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(x_np)

x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_full = torch.full_like(x_data, 7, dtype=torch.float)
print(f"Full Tensor: \n {x_full} \n")

shape = (2, 3,)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
print(f"Ones Tensor: \n {ones_tensor} \n")
print(f"Zeros Tensor: \n {zeros_tensor}")

tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")

print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
print(tensor[1:, ::2])
print(tensor[tensor > 5])
print(tensor[[0, 2]])
print(tensor[torch.tensor([0, 2]), torch.tensor([1, 3])])

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1)
print(torch.stack([tensor[0], tensor[1]]))
print(torch.stack([tensor[0], tensor[1]], dim=1))
print(torch.hstack([tensor[0], tensor[1]]))
print(torch.vstack([tensor[0], tensor[1]]))

print(torch.eye(3))
print(torch.linspace(0, 1, steps=5))
print(torch.arange(0, 10, 3))
print(torch.zeros(2, 3, dtype=torch.int64))
print(torch.empty(0))
print(torch.tensor(3.5))
print(torch.tensor([]))
print(torch.randn(2, 3).shape)

a = torch.arange(24).reshape(2, 3, 4)
print(a.permute(2, 0, 1).shape)
print(a.transpose(0, 1).contiguous().view(3, -1))
print(a.flatten())
print(a.unsqueeze(0).shape, a.squeeze().shape)
print(a.chunk(2, dim=2))
print(a.split([1, 2], dim=1)[1])
print(torch.where(a > 10, a, -a)[0])
print(a.sum(), a.sum(dim=1), a.max(), a.argmax(dim=2))
print(a.float().mean(dim=(0, 2)))
print(torch.tensor([3, 1, 2]).sort())
print(torch.topk(torch.tensor([1., 5., 3., 4.]), 2))
