"""_speed."""
