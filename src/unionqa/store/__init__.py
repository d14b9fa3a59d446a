"""Where an index lives: generations on disk (``generations``), the ``Store`` protocol (``base``), the local and
Milvus stores (``local``, ``milvus``), record files (``records``), the build stages (``build``) and opening a
store by its location (``locations``)."""
