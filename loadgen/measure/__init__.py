"""Measuring: HDR histograms, the recorder of every request, interval logs."""
