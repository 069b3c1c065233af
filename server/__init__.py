"""The monitored FastAPI server that loadgen aims at.

Kept import-light: gunicorn's master imports `server.logsetup` while it reads
`logging.conf`, long before (and without) importing the app.
"""
