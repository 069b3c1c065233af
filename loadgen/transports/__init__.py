"""Transports: how one HTTP request is sent (the `Client` seam and what implements it).

The bottom layer: it imports nothing else of loadgen's.
"""
