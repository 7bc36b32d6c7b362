"""Kernels that exist only for speed, behind plain-function interfaces.

Domain modules call these and never set up scratch buffers or threads themselves:
:func:`.blocks.blockwise` runs a chain of elementwise steps a cache-sized block at a
time, :class:`.schedule.Steps` runs named steps as soon as their inputs exist and
:func:`.schedule.map_on_threads` runs independent calls two at a time, :mod:`.codes`
turns keys into dense integer codes for counting passes, :func:`.grid_cells.grid_cells`
gives exact H3 cells of dense points with a fraction of the H3 calls (quartering the
squares that straddle a cell edge in :mod:`.quarters`), and
:func:`.timestamps.read_fixed_layout` reads ISO timestamps of one layout digit by digit.
Each is checked against the plain computation in ``tests/speed`` and the stage tests;
figures are in ``docs/performance.md``.
"""
