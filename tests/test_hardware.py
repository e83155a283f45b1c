import types

import pytest

from helpers import hardware
from helpers.hardware import Hardware, detect
from helpers.training import Settings, course_defaults


def fake_torch(cuda=False, bf16=False, mps=False, name="NVIDIA T4", memory=16e9, gpus=1):
    props = types.SimpleNamespace(name=name, total_memory=memory)
    return types.SimpleNamespace(
        cuda=types.SimpleNamespace(is_available=lambda: cuda, get_device_properties=lambda i: props, is_bf16_supported=lambda: bf16,
                                   device_count=lambda: gpus if cuda else 0),
        backends=types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: mps)),
    )


def test_a_t4_trains_in_fp16_an_h100_in_bf16():
    t4, h100 = detect(fake_torch(cuda=True, bf16=False)), detect(fake_torch(cuda=True, bf16=True, name="NVIDIA H100"))
    assert (t4.kind, t4.precision, t4.memory_gb) == ("cuda", "fp16", 16.0)
    assert (h100.precision, h100.name) == ("bf16", "NVIDIA H100")


def test_mps_and_cpu(monkeypatch):
    assert detect(fake_torch(mps=True)).kind == "mps" and detect(fake_torch(mps=True)).precision == "fp32"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert detect(fake_torch()).precision == "bf16"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "fma"})
    cpu = detect(fake_torch())
    assert (cpu.kind, cpu.precision, cpu.gpu) == ("cpu", "fp32", False) and cpu.memory_gb > 0
    assert str(cpu).startswith("CPU: ") and "fp32" in str(cpu)


def test_course_defaults_follow_the_hardware(monkeypatch):
    gpu = Hardware("cuda", "NVIDIA T4", 16, bf16=False)
    settings = course_defaults("bert-base-uncased", "full", hardware=gpu)
    assert settings.precision == "fp16" and settings.group_by_length and settings.epochs == 3
    assert settings.dropout is None and not settings.freeze_embeddings  # a GPU keeps the measured recipe of 3 epochs
    cpu = course_defaults("sentence-transformers/all-MiniLM-L6-v2", "full", hardware=Hardware("cpu", "x", 8, False))
    assert (cpu.precision, cpu.epochs, cpu.dropout, cpu.freeze_embeddings) == ("fp32", 2, 0.0, True)
    assert course_defaults("sentence-transformers/all-MiniLM-L6-v2", "smoke", hardware=Hardware("cpu", "x", 8, False)).epochs == 1


def test_training_arguments_follow_the_hardware(monkeypatch, tmp_path):
    from helpers import recipe

    monkeypatch.setattr(recipe, "TrainingArguments", dict)  # the arguments lesson 5 writes, not checked against this CPU

    def arguments(settings, hardware):
        monkeypatch.setattr(recipe, "detect", lambda: hardware)
        chosen = recipe.training_arguments(settings, tmp_path)
        return {name: chosen[name] for name in ("bf16", "fp16", "tf32", "optim", "use_cpu", "dataloader_pin_memory")}

    h100, t4, cpu = Hardware("cuda", "NVIDIA H100", 80, True), Hardware("cuda", "Tesla T4", 16, False), Hardware("cpu", "x", 8, True)
    assert arguments(course_defaults("bert-base-uncased", "full", hardware=h100), h100) == {
        "bf16": True, "fp16": False, "tf32": True, "optim": "adamw_torch_fused", "use_cpu": False, "dataloader_pin_memory": True}
    seed = arguments(Settings("bert-base-uncased", batch_size=8), h100)
    assert seed["tf32"] is None and not seed["bf16"]  # the seed stays fp32
    on_t4 = arguments(course_defaults("bert-base-uncased", "full", hardware=t4), t4)
    assert on_t4["fp16"] and on_t4["tf32"] is None  # a T4 has no TF32: asking for it would fail
    assert arguments(course_defaults("sentence-transformers/all-MiniLM-L6-v2", "full", hardware=cpu), cpu) == {
        "bf16": True, "fp16": False, "tf32": None, "optim": "adamw_torch", "use_cpu": True, "dataloader_pin_memory": False}


def test_with_a_gpu_the_default_checkpoint_is_the_seed(monkeypatch):
    from helpers import checkpoints

    monkeypatch.setattr(checkpoints, "hub_status", lambda: (True, "it answered"))
    assert checkpoints.default_checkpoint(for_training=True, gpu=detect(fake_torch(cuda=True)).gpu) == "bert-base-uncased"


def test_memory_is_capped_by_the_container_and_by_binder(tmp_path):
    cap = tmp_path / "memory.max"
    cap.write_text("2147483648\n", encoding="utf-8")
    assert hardware.ram_gb(environ={}, limit_files=[str(cap)]) == 2.147483648
    cap.write_text("max\n", encoding="utf-8")
    assert hardware.ram_gb(environ={}, limit_files=[str(cap)]) > 2.2
    assert hardware.ram_gb(environ={"MEM_LIMIT": "1000000000"}, limit_files=[]) == 1.0


def test_small_cpu_machines_train_in_smaller_batches():
    binder = Hardware("cpu", "x", 2.1, False)
    assert binder.small and course_defaults("sentence-transformers/all-MiniLM-L6-v2", "full", hardware=binder).batch_size == 16
    assert course_defaults("sentence-transformers/all-MiniLM-L6-v2", "full", hardware=Hardware("cpu", "x", 16, False)).batch_size == 32
    assert not Hardware("cuda", "T4", 2, False).small


@pytest.mark.parametrize("torch, processes, kind", [
    (fake_torch(cuda=True), "1", "cuda"),
    (fake_torch(cuda=True, gpus=2), "2", "cuda"),  # a GPU each
    (fake_torch(cuda=True), "2", "cpu"),  # two processes, one GPU (Colab's T4): both on the CPU, not both on cuda:0
    (fake_torch(mps=True), "1", "mps"),
    (fake_torch(mps=True), "2", "cpu"),  # Apple's one GPU: several processes compute on the CPU
])
def test_processes_started_together_need_a_gpu_each(torch, processes, kind):
    assert detect(torch, environ={"LOCAL_WORLD_SIZE": processes}).kind == kind


def test_the_cpu_class_named_beside_speed_figures_is_the_fastest_its_flags_allow():
    from tools.ceiling import cpu_class

    assert cpu_class({"avx2", "avx512f", "avx512_bf16", "amx_bf16"}).startswith("AMX (")
    assert cpu_class({"avx2", "avx512f", "avx512_bf16"}).startswith("AVX-512 with bf16 (")
    assert cpu_class({"avx2", "avx512f"}).startswith("AVX-512 (")
    assert cpu_class({"avx2", "fma"}).startswith("AVX2 (") and cpu_class(set()).startswith("no AVX2 (")
