"""The presenting stage: an analysis in, reports out.

In: an :class:`~explorer.analysis.Analysis`. Out: the JSON report (the contract in
:mod:`.contract`, validated against the JSON Schema composed in :mod:`.schema` from
``schemas/``), Markdown (:mod:`.markdown`) and one offline HTML file (:mod:`.html`,
with inline SVG charts from :mod:`.charts` and evidence read by :mod:`.evidence`), and
cells or findings' areas as GeoJSON, GeoParquet or a formula-safe CSV (:mod:`.geo`).
"""
