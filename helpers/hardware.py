"""What this machine computes on: CUDA, Apple MPS or the CPU."""


def device_kind() -> str:
    """`cuda`, `mps` or `cpu`: where torch will train (lesson 4)."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def has_gpu() -> bool:
    """Whether a GPU (CUDA or Apple MPS) is there to train on (lesson 4)."""
    return device_kind() != "cpu"
