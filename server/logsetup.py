"""Where the server's log files live, and how lines reach them intact.

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
