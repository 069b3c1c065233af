"""`python -m loadgen`: the command line (`commands/main.py`), and its exit."""

import signal
import sys

from loadgen.commands.main import main
from loadgen.commands.options.exitcode import ExitCode

try:
    status = main()
except KeyboardInterrupt:  # a Ctrl-C past the commands' own handling, as they tidied up
    status = ExitCode.INTERRUPTED
# Said and written: a stop signal from here on (the interpreter ending) would only
# kill the process halfway through its exit (-2 instead of its status).
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
sys.exit(status)
