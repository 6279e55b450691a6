"""A tiny BERT and WordPiece tokenizer built locally, for tests and examples that must not download."""

from __future__ import annotations

from pathlib import Path


def make_tiny_checkpoint(folder: str | Path, texts: list[str], *, num_labels: int, vocab_size: int, hidden: int,
                         layers: int, heads: int, max_length: int, dropout: float, seed: int) -> Path:
    """See :func:`engine_transformers.make_tiny_checkpoint`."""
    import tokenizers
    import torch
    import transformers
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = tokenizers.Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special,
                                                             show_progress=False))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                                cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                                model_max_length=max_length)
    fast.save_pretrained(folder)
    config = transformers.BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden, num_hidden_layers=layers,
                                     num_attention_heads=heads, intermediate_size=hidden * 4,
                                     max_position_embeddings=max_length,
                                     hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
                                     pad_token_id=tok.token_to_id("[PAD]"))
    config.num_labels = num_labels
    torch.manual_seed(seed)
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    return folder


POSITIVE = ("good", "great", "excellent", "lovely", "superb", "wonderful", "pleasant", "fine")
NEGATIVE = ("bad", "awful", "terrible", "poor", "dreadful", "horrible", "nasty", "weak")
FILLER = ("the", "a", "film", "plot", "actor", "story", "was", "is", "very", "quite", "and", "but", "with",
          "scene", "music", "ending", "cast", "really", "somewhat", "overall", "movie", "script", "of", "it")


def synthetic_sentiment(rows: int, seed: int) -> list[tuple[str, int]]:
    """``(text, label)`` pairs: label 1 when the text holds more positive than negative words.

    Filler words surround two or three sentiment words, so a model must read the whole text;
    a bag of words separates the classes, so a tiny model learns it well above chance.
    """
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(rows):
        label = rng.randrange(2)
        strong, weak = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
        words = [rng.choice(FILLER) for _ in range(rng.randint(6, 14))]
        sentiment = [rng.choice(strong), rng.choice(strong)] + ([rng.choice(weak)] if rng.random() < 0.5 else [])
        for word in sentiment:
            words.insert(rng.randrange(len(words) + 1), word)
        out.append((" ".join(words), label))
    return out
