"""Where the server's log files live, how lines reach them intact, and which
requests stay out of the access log.

`logging.conf` names `server.logsetup.LogFileHandler` for its file handlers:
fileConfig evaluates handler arguments, but a path relative to the config file
cannot be written there portably, so the handler resolves it itself.
"""

import logging
import os
from pathlib import Path
from typing import Final

# The bundled config sits in this package; its log directory is beside it.
LOGGING_CONF: Final = Path(__file__).resolve().with_name("logging.conf")
DEFAULT_LOG_DIR: Final = LOGGING_CONF.parent / "logs"


def log_dir() -> Path:
    """$LOG_DIR if set, else `logs/` next to `logging.conf`."""
    return Path(os.environ.get("LOG_DIR") or DEFAULT_LOG_DIR)


class LogFileHandler(logging.FileHandler):
    """Appends each record to `log_dir() / filename` in a single write(2).

    gunicorn's master opens the file and every worker inherits the descriptor,
    so several processes append to it at once. With O_APPEND the kernel puts
    each write at the current end of file, so a record written in one call is
    neither lost nor interleaved with another. FileHandler's buffered stream
    does flush a record in one write too, but as a detail of io's buffering;
    here it holds by construction.
    """

    def __init__(self, filename: str, encoding: str = "utf-8") -> None:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(directory / filename, mode="a", encoding=encoding)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            data = memoryview(line.encode(self.encoding or "utf-8", self.errors or "strict"))
            if self.stream is None:  # after close(), as FileHandler.emit also allows
                self.stream = self._open()
            fd = self.stream.fileno()
            while data:  # a regular file takes it in one go unless the disk is full
                data = data[os.write(fd, data) :]
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def get_logger(name: str) -> logging.Logger:
    """A logger for app code whose records land in error.log too.

    logging.conf may configure only root, gunicorn.error and gunicorn.access,
    and root writes to the console alone; a child of gunicorn.error inherits
    its file handler and LOG_LEVEL, then propagates to the console as well.
    """
    return logging.getLogger("gunicorn.error").getChild(name)


class DropPaths(logging.Filter):
    """Drops uvicorn's access records for the given paths (query strings aside)."""

    def __init__(self, paths: frozenset[str]) -> None:
        super().__init__()
        self.paths = paths

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs '%s - "%s %s HTTP/%s" %d' with (client, method,
        # path?query, http version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            return args[2].partition("?")[0] not in self.paths
        return True


def hide_from_access_log(*paths: str) -> None:
    """Keep requests to `paths` out of the access log, in this process.

    On the `uvicorn.access` logger, where the records start: under gunicorn
    the uvicorn worker hands it gunicorn.access's handlers (access.log), and
    a single uvicorn sends it to the console. fileConfig cannot declare
    filters, hence code; calling it again changes nothing.
    """
    logger = logging.getLogger("uvicorn.access")
    wanted = frozenset(paths)
    if not any(isinstance(f, DropPaths) and f.paths == wanted for f in logger.filters):
        logger.addFilter(DropPaths(wanted))
