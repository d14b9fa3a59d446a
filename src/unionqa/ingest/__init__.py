"""Documents in, chunks out: a reader per source format (``readers``), structure parsing into documents with
sections (``documents``), section-aligned chunks (``chunking``) and the gazetteer of place names (``places``).

Knows nothing of search, store, answer or web."""
