"""The seed's sections 2 (pretrained ResNet18: forward, backward, SGD step) and 7 (freeze,
new fc, SGD) run unmodified under `dagrad run`, with a torch-made checkpoint in the cache as
resnet18-f37072fd.pth (a random-init ResNet18's state_dict: torchvision checks the sha256 prefix
only when it downloads, so a cached file is used as is)."""
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import torch_models as TM  # noqa: E402

SEED = "/work/shared/seed/000_b910928ee8370302.txt"

SECTION_2 = """\
import torch
from torchvision.models import resnet18, ResNet18_Weights
model = resnet18(weights=ResNet18_Weights.DEFAULT)

data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 1000)
prediction = model(data) # forward pass
loss = (prediction - labels).sum()
loss.backward() # backward pass
optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
optim.step() #gradient descent
"""

SECTION_7 = """\
# Ta tải model resnet18 đã đc train và đóng băng tất cả các tham số
from torch import nn, optim

model = resnet18(weights=ResNet18_Weights.DEFAULT)

# Freeze all the parameters in the network
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(512, 10)
# Optimize only the classifier
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
"""

# checks run after each section; they only read the seed's variables
AFTER_2 = """
import json as _json
_ck = torch.load(_CKPT)
_sec2 = {"torch": torch.__name__, "pred_shape": list(prediction.shape),
         "unchanged": [n for n, p in model.named_parameters() if torch.equal(p.detach(), _ck[n])],
         "no_grad": [n for n, p in model.named_parameters() if p.grad is None],
         "n_params": len(list(model.parameters()))}
"""

AFTER_7 = """
_before = {n: p.detach().clone() for n, p in model.named_parameters()}
model(torch.rand(2, 3, 64, 64)).sum().backward()
optimizer.step()
_sec7 = {"requires_grad": [n for n, p in model.named_parameters() if p.requires_grad],
         "changed": [n for n, p in model.named_parameters() if not torch.equal(p, _before[n])],
         "with_grad": [n for n, p in model.named_parameters() if p.grad is not None],
         "n_registered": len(optimizer.param_groups[0]["params"])}
print("RESULT " + _json.dumps({"sec2": _sec2, "sec7": _sec7}))
"""


def test_seed_code_is_verbatim():
    seed = open(SEED, encoding="utf-8").read()
    for line in (SECTION_2 + SECTION_7).splitlines():
        if line.strip():
            assert line in seed, line


def test_sections_2_and_7_under_dagrad_run(tmp_path):
    torch.manual_seed(0)
    folder = tmp_path / "torch_home" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    ckpt = folder / "resnet18-f37072fd.pth"
    torch.save(TM.resnet18().state_dict(), ckpt)
    script = tmp_path / "seed.py"
    script.write_text(f"_CKPT = {str(ckpt)!r}\n" + SECTION_2 + AFTER_2 + SECTION_7 + AFTER_7,
                      encoding="utf-8")
    env = dict(os.environ, TORCH_HOME=str(tmp_path / "torch_home"),
               DAGRAD_HOME=str(tmp_path / "dagrad_home"))
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    env["PYTHONPATH"] = os.path.abspath(src) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "dagrad", "run", str(script)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    s2, s7 = res["sec2"], res["sec7"]
    assert s2["torch"] == "dagrad" and s2["pred_shape"] == [1, 1000]
    assert s2["n_params"] == 62 and s2["no_grad"] == [] and s2["unchanged"] == []
    assert s7["requires_grad"] == ["fc.weight", "fc.bias"]
    assert s7["changed"] == ["fc.weight", "fc.bias"]
    assert s7["with_grad"] == ["fc.weight", "fc.bias"]
    assert s7["n_registered"] == 62
    # nothing was downloaded: the torch cache was used as is
    assert not (tmp_path / "dagrad_home" / "hub" / "checkpoints" /
                "resnet18-f37072fd.pth").exists()
