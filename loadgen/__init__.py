"""loadgen: an open-model, coordinated-omission-correct HTTP load generator.

The public API is what a scenario needs:

    from loadgen import Request, Scenario, Session, task

    class Browse(Scenario):
        @task(3)
        def home(self) -> Request:
            return Request("GET", "/")

Everything else is reached through the command line (`loadgen --help`).
This module imports only the standard library (`locust.py` imports the
default mix inside Locust's gevent-patched process).
"""

from loadgen.core.session import Session
from loadgen.scenario import Scenario, task
from loadgen.transports.models import ClientError, Failed, Request, Response

__version__ = "0.1.0"

__all__ = [
    "ClientError",
    "Failed",
    "Request",
    "Response",
    "Scenario",
    "Session",
    "__version__",
    "task",
]
