"""PyTorch peers of the norm family (loaded by torch_peers.py): HF's functions and the
fp32-single-rounding form, with a float64 reference to check them against before timing.

  - rmsnorm.hf: w * rn(x * r) (HF Llama/Qwen RMSNorm);
  - rmsnorm.fp32: rn(x * r * w);
  - fused_add_rmsnorm.hf: the residual add in the model dtype, then HF's norm.
Shapes: decode 1..256 tokens x hidden 1024..16384; bandwidth about 1 GiB moved.
"""
import torch

FAMILY = "rmsnorm"
EPS = 1e-6


def rms_hf(x, w):
    h = x.float()
    var = h.pow(2).mean(-1, keepdim=True)
    return w * (h * torch.rsqrt(var + EPS)).to(x.dtype)


def rms_fp32(x, w):
    h = x.float()
    var = h.pow(2).mean(-1, keepdim=True)
    return (h * torch.rsqrt(var + EPS) * w.float()).to(x.dtype)


def fused_hf(x, r, w):
    s = x + r
    return rms_hf(s, w), s


# profile: (op, function, row inputs, tensors moved per element)
PEERS = {
    "rmsnorm.hf": ("rmsnorm", rms_hf, 1, 2),
    "rmsnorm.fp32": ("rmsnorm", rms_fp32, 1, 2),
    "fused_add_rmsnorm.hf": ("fused_add_rmsnorm", fused_hf, 2, 4),
}


def shapes(quick):
    hiddens = [1024, 4096, 16384] if quick else [1024, 2048, 4096, 8192, 16384]
    return [{"hidden": h} for h in hiddens], [1, 16, 64, 128, 256]


def case(profile, tokens, shape, dtype, device):
    """Inputs (positional, the weight last), bytes moved, and a float64 reference."""
    op, fn, n_in, moved = PEERS[profile]
    hidden = shape["hidden"]
    torch.manual_seed(0)
    ins = [torch.randn(tokens, hidden, device=device).to(dtype) for _ in range(n_in)]
    w = (1 + 0.1 * torch.randn(hidden, device=device)).to(dtype)
    x64 = ins[0].double() + (ins[1].double() if n_in == 2 else 0)
    ref = x64 * torch.rsqrt(x64.pow(2).mean(-1, keepdim=True) + EPS) * w.double()
    es = torch.finfo(dtype).bits // 8
    return ins + [w], (moved * tokens + 1) * hidden * es, ref


def bandwidth_tokens(profile, shape, dtype):
    moved = PEERS[profile][3]
    return (1 << 30) // (moved * shape["hidden"] * (torch.finfo(dtype).bits // 8))
