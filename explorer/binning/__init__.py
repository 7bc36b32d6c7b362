"""binning."""
