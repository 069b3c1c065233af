"""The engine layer: rates, pacing, arrivals and the engine that sends them.

It imports only the transports and measure layers (and the scenario API).
"""
