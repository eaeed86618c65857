"""PyTorch peers of the act_and_mul family (loaded by torch_peers.py): the HF-style gated MLP
activation, act(x[..., :d]) * x[..., d:], with a float64 reference to check them against before
timing.

  - act_and_mul.silu.torch:      F.silu(gate) * up              (HF Llama/Qwen MLP);
  - act_and_mul.gelu.torch:      F.gelu(gate) * up              (erf GELU);
  - act_and_mul.gelu_tanh.torch: F.gelu(gate, approximate="tanh") * up  (Gemma MLP).
Eager rounds the activation to the storage dtype before the multiply, so these implement the
`torch` profiles (wave2-semantics.md section 2.1); torch.compile may fuse the two and round once.
Shapes: decode 1..256 tokens x d 1024..28672; bandwidth 8192 tokens (32768 at d = 8192) as
bench/act_and_mul_bench.cu times ours.
"""
import math

import torch
import torch.nn.functional as F

FAMILY = "act_and_mul"
# Inputs without a token dimension at the end of case()'s list (torch_peers.py marks the others
# dynamic for torch.compile dynamic): none here.
FIXED_INPUTS = 0


def silu_and_mul(x):
    d = x.shape[-1] // 2
    return F.silu(x[..., :d]) * x[..., d:]


def gelu_and_mul(x):
    d = x.shape[-1] // 2
    return F.gelu(x[..., :d]) * x[..., d:]


def gelu_tanh_and_mul(x):
    d = x.shape[-1] // 2
    return F.gelu(x[..., :d], approximate="tanh") * x[..., d:]


# profile: (op, function)
PEERS = {
    "act_and_mul.silu.torch": ("act_and_mul", silu_and_mul),
    "act_and_mul.gelu.torch": ("act_and_mul", gelu_and_mul),
    "act_and_mul.gelu_tanh.torch": ("act_and_mul", gelu_tanh_and_mul),
}


def _exact(profile, g):
    if profile == "act_and_mul.silu.torch":
        return g / (1 + torch.exp(-g))
    if profile == "act_and_mul.gelu.torch":
        return 0.5 * g * (1 + torch.erf(g / math.sqrt(2)))
    return 0.5 * g * (1 + torch.tanh(math.sqrt(2 / math.pi) * (g + 0.044715 * g ** 3)))


def shapes(quick):
    dims = [4096, 8192, 11008] if quick else [1024, 2048, 4096, 8192, 11008, 14336, 28672]
    return [{"d": d} for d in dims], [1, 16, 64, 128, 256]


def case(profile, tokens, shape, dtype, device):
    """Inputs (positional), bytes moved, and a float64 reference."""
    d = shape["d"]
    torch.manual_seed(0)
    x = (2 * torch.randn(tokens, 2 * d, device=device)).to(dtype)
    x64 = x.double()
    ref = _exact(profile, x64[:, :d]) * x64[:, d:]
    es = torch.finfo(dtype).bits // 8
    return [x], 3 * tokens * d * es, ref


def bandwidth_tokens(profile, shape, dtype):
    return 32768 if shape["d"] == 8192 else 8192
