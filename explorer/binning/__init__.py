"""The binning stage: each ping's H3 cell and local clock.

In: canonical pings. Out: the same pings with the columns every summary table groups on
(:func:`explorer.binning.prepare.prepare`): device hash, H3 cell, coordinate decimals,
coarse flag, local hour, weekday, day and second. :mod:`.cells` is the only module that
calls H3 (cells, neighbours, parents, centres, boundaries); :mod:`.decimals` counts the
decimals a coordinate was written with.
"""
