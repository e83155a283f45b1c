"""What this machine computes on (CUDA, Apple MPS or the CPU), how much memory it has, and which precision suits it."""

import os
import platform
from dataclasses import dataclass

BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}  # CPUs that compute in bfloat16 natively: bf16 trains faster there (README, "Speed")
# The classes speed figures are named by, the fastest first: the first flag the CPU has names its class
@dataclass(frozen=True)
class Hardware:
    """The facts the course's defaults depend on (lesson 5)."""

    kind: str  # "cuda", "mps" or "cpu"
    name: str  # the GPU's or the CPU's name
    memory_gb: float  # GPU memory on CUDA, else the machine's RAM
    bf16: bool  # whether the device computes in bfloat16 natively

    @property
    def gpu(self) -> bool:
        return self.kind != "cpu"

    @property
    def small(self) -> bool:
        """A CPU machine with little memory, such as Binder's 2 GB (lesson 5)."""
        return not self.gpu and self.memory_gb < SMALL_MEMORY_GB

    @property
    def precision(self) -> str:
        """bf16 where the device supports it natively, else fp16 on CUDA and fp32 elsewhere (lesson 5)."""
        if self.kind == "cuda":
            return "bf16" if self.bf16 else "fp16"
        return "bf16" if self.kind == "cpu" and self.bf16 else "fp32"

    def __str__(self) -> str:
        return f"{self.kind.upper()}: {self.name}, {self.memory_gb:.0f} GB, {self.precision}"


CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
SMALL_MEMORY_GB = 4.0  # Binder gives 2 GB: below this, the CPU defaults train in smaller batches


def ram_gb(environ=os.environ, limit_files=CGROUP_LIMITS) -> float:
    """Memory this process may use, in GB: the machine's, or less where a container or MEM_LIMIT caps it (lesson 5)."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    for path in limit_files:
        try:
            limits.append(int(open(path, encoding="utf-8").read().strip()))
        except (OSError, ValueError):  # no such file, or "max": no cap
            pass
    if environ.get("MEM_LIMIT", "").isdigit():  # set by Binder (JupyterHub) to the container's cap
        limits.append(int(environ["MEM_LIMIT"]))
    return min(limits) / 1e9 if limits else 0.0


def limit_heap_growth() -> None:
    """Hand large freed blocks back to the system at once, so a small machine's training peak stays low (lesson 5)."""
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD: blocks of 1 MiB or more get their own mapping
        except (OSError, AttributeError):
            pass


def cpuinfo(field: str) -> str | None:
    """The first value of a field of /proc/cpuinfo, where there is one (lesson 5)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return next((line.split(":", 1)[1].strip() for line in handle if line.startswith(field)), None)
    except OSError:
        return None


def cpu_flags() -> set[str]:
    """The processor's feature flags (lesson 5)."""
    return set((cpuinfo("flags") or "").split())


def cpu_name() -> str:
    """The processor's model name and core count (lesson 5)."""
    return f"{cpuinfo('model name') or platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def detect(torch=None, environ=os.environ) -> Hardware:
    """Detect CUDA, then Apple MPS, else the CPU; `torch` can be a stand-in for tests (lesson 5).

    Processes started together (torchrun, accelerate launch) need a GPU each: with more processes on this machine than
    CUDA GPUs, or several on Apple's one GPU, every process computes on the CPU instead, and all agree on it."""
    if torch is None:
        import torch
    processes = int(environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    if torch.cuda.is_available() and processes <= torch.cuda.device_count():
        props = torch.cuda.get_device_properties(0)
        return Hardware("cuda", props.name, props.total_memory / 1e9, bool(torch.cuda.is_bf16_supported()))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available() and processes == 1:
        return Hardware("mps", "Apple GPU", ram_gb(), False)
    return Hardware("cpu", cpu_name(), ram_gb(), bool(BF16_CPU_FLAGS & cpu_flags()))


def has_gpu() -> bool:
    """Whether a GPU (CUDA or Apple MPS) is there to train on (lesson 5)."""
    return detect().gpu


def describe_device() -> str:
    """One line naming the device and its memory (benchmark)."""
    return str(detect())
