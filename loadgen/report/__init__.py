"""Reports: the summary contract, SLOs, the terminal, HTML pages and a run's files.

Reports read results; they never run the engine.
"""
