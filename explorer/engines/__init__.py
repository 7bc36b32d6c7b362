"""How an input is processed: in memory, in bounded chunks, or on a Dask cluster.

In: any source ``read_pings`` takes. Out: the same :class:`~explorer.summary.Summary`
from every engine (its per-ping tables compacted), then one analysis.
:mod:`.choose` picks the engine (``auto`` uses :mod:`.sizing`'s memory estimate),
:mod:`.chunked` spills big tables to disk, :mod:`.dask_cluster` summarises on workers.
"""
