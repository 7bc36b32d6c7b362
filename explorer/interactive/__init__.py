"""What an interactive view needs from an analysis, computed here so the app only draws.

In: a summary or pings and a selection. Out: map layer rows with colours and legend
(:mod:`.map_layers`), an area's hour profile and device-type mix against the rest
(:mod:`.area_profiles`), and filtered pings by local date, hour and device type
(:mod:`.filters`).
"""
