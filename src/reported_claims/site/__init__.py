"""Showing how a claim travelled: the records read for display, the lineage graph of a claim,
its layered layout, and the static site generated from them (``build``, needing the ``site`` extra)."""
