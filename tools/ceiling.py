"""What the CPU can do at best for the model's matrix products, and what share of it a training run achieved (benchmark).

A Transformer layer's work is almost all in its six linear layers (query, key, value, output, and the two of the
feed-forward block); training runs each one forward and twice backward (the gradients of its input and of its weight),
so about 6 floating-point operations per weight per token, plus the attention's own products. `ceiling` times those
nine bare matrix products at the batch's shape, in the run's precision, and returns the operations per second they reach
together: no model, no data, no optimizer. `achieved` divides a whole run's useful operations (its real tokens, padding
not counted) by its training time, evaluation and checkpoints included.
"""

import time

CPU_CLASSES = (("amx_bf16", "AMX"), ("avx512_bf16", "AVX-512 with bf16"), ("avx512f", "AVX-512"), ("avx2", "AVX2"))


def cpu_class(flags: set[str] | None = None) -> str:
    """The CPU's class for speed figures: AMX, AVX-512 with bf16, AVX-512, AVX2 or older, and its name."""
    from helpers.hardware import cpu_flags, cpu_name

    flags = cpu_flags() if flags is None else flags
    kind = next((name for flag, name in CPU_CLASSES if flag in flags), "no AVX2")
    return f"{kind} ({cpu_name()})"


def layer_shapes(config) -> list[tuple[int, int, int]]:
    """(input features, output features, how many per layer) of an encoder layer's linear layers."""
    hidden, inner = config.hidden_size, config.intermediate_size
    return [(hidden, hidden, 4), (hidden, inner, 1), (inner, hidden, 1)]


def train_flops(config, tokens: int, length: float) -> float:
    """Floating-point operations to train on `tokens` tokens in sequences of `length`: 6 per linear weight per token, and
    the attention's two products (scores and weighted sum), forward and backward."""
    linear = sum(2 * fan_in * fan_out * count for fan_in, fan_out, count in layer_shapes(config))
    attention = 2 * 2 * length * config.hidden_size
    return 3 * (linear + attention) * tokens * config.num_hidden_layers


def _best_seconds(run, seconds: float = 0.25, tries: int = 3) -> float:
    """The fastest time of one call, from `tries` rounds of as many calls as fill `seconds`."""
    run()  # warm: the first call allocates
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds / tries or calls < 2:
        run()
        calls += 1
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def ceiling(config, tokens_per_batch: int, precision: str = "fp32") -> float:
    """GFLOP/s of the encoder's linear layers as bare matrix products at this batch shape and precision: each forward
    product and its two backward ones, weighted as one layer holds them."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    flops = spent = 0.0
    with torch.no_grad():
        for fan_in, fan_out, count in layer_shapes(config):
            x = torch.randn(tokens_per_batch, fan_in, dtype=dtype)
            w = torch.randn(fan_out, fan_in, dtype=dtype)
            dy = torch.randn(tokens_per_batch, fan_out, dtype=dtype)
            products = [lambda: torch.nn.functional.linear(x, w),  # forward
                        lambda: dy @ w,  # gradient of the input
                        lambda: dy.t() @ x]  # gradient of the weight
            for product in products:
                spent += count * _best_seconds(product)
                flops += count * 2 * tokens_per_batch * fan_in * fan_out
    return flops / spent / 1e9


def achieved(config, tokens: int, length: float, seconds: float) -> float:
    """GFLOP/s a run achieved: its useful training operations over its training time."""
    return train_flops(config, tokens, length) / seconds / 1e9
