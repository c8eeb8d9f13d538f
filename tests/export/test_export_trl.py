"""The exports train with the real TRL trainers (SFTTrainer on openai-chat, DPOTrainer on dpo).

Needs the ``train`` extra (``pip install -e .[train]``: trl and the CPU torch wheel). The model
and tokenizer are built in the test (a 1-layer Llama and a word-level tokenizer trained on the
export itself), so nothing is downloaded.
"""

from __future__ import annotations

import copy

import pytest

# install.sh --test installs the train extra; without it this module fails rather than skips.
import trl  # noqa: E402,F401
from datasets import load_dataset  # noqa: E402

from logomesh_tui.export import export_session  # noqa: E402

pytestmark = pytest.mark.train

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}<|im_end|>"
    "{% endgeneration %}{% else %}{{ m['content'] }}<|im_end|>{% endif %}\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _tiny_model_and_tokenizer(texts):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tk = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.train_from_iterator(texts + ["system user assistant"], trainer=trainers.WordLevelTrainer(
        special_tokens=["<pad>", "<s>", "<unk>", "<|im_start|>", "<|im_end|>"]))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", bos_token="<s>",
                                  eos_token="<|im_end|>", unk_token="<unk>")
    tok.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=2048, pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    return LlamaForCausalLM(config), tok


def test_sft_and_dpo_trainers_run_on_the_exports(session, sessions_dir, tmp_path):
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    sft_ds = load_dataset("json", data_files=str(export_session(
        session.session_id, "openai-chat", sessions_dir=sessions_dir, name="sft").data_file),
        split="train")
    dpo_ds = load_dataset("json", data_files=str(export_session(
        session.session_id, "dpo", sessions_dir=sessions_dir, name="dpo").data_file),
        split="train")
    texts = [m["content"] for row in sft_ds for m in row["messages"]]
    model, tok = _tiny_model_and_tokenizer(texts)

    sft = SFTTrainer(model=model, train_dataset=sft_ds, processing_class=tok, args=SFTConfig(
        output_dir=str(tmp_path / "sft"), max_steps=1, per_device_train_batch_size=2,
        report_to=[], save_strategy="no", max_length=512, use_cpu=True,
        assistant_only_loss=True))
    # TRL tokenised every conversation (none dropped as fully masked): the format is right.
    assert len(sft.train_dataset) == sft_ds.num_rows
    assert sft.train().training_loss > 0

    dpo = DPOTrainer(model=model, ref_model=copy.deepcopy(model), train_dataset=dpo_ds,
                     processing_class=tok, args=DPOConfig(
                         output_dir=str(tmp_path / "dpo"), max_steps=1,
                         per_device_train_batch_size=1, report_to=[], save_strategy="no",
                         max_length=512, use_cpu=True))
    assert {"prompt_ids", "chosen_ids", "rejected_ids"} <= set(dpo.train_dataset.column_names)
    assert dpo.train().training_loss == pytest.approx(0.6931, abs=0.01)  # log 2 at step one
