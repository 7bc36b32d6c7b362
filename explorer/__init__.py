"""Ping Bias Explorer: find the biases in mobile-device location pings."""

__version__ = "0.1.0"
