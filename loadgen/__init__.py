"""loadgen: an open-model, coordinated-omission-correct HTTP load generator."""

__version__ = "0.1.0"
