"""Finding passages: the shared tokenizer and English query expansion (``tokenize``, ``translate``), the BM25 and
FAISS indexes (``lexical``, ``vector``), the embedders and the bundled ONNX model (``embedding``, ``e5_onnx``),
rank fusion (``fusion``), query preparation (``query``) and the hybrid retriever (``retrieval``).

Knows nothing of store, answer or web."""
