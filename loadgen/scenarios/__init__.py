"""Scenarios shipped with loadgen (the default mix among them)."""
