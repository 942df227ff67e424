"""tools/rcbench_tools.py — what rcbench's Python tools share: promise P7
(docs: /work/shared/TESTING.md) in one place.

    exit 0 ok, 1 regression found (rcbench-compare only), 2 bad usage or
    input, 3 out of memory or an OS error (a write, a full disk, stdout);
    one line `TOOL: message` on stderr, never a traceback; a file written
    is complete or absent (write_atomic: a temporary file, then rename).

A tool imports it from its own directory (each is a script, not a package):

    sys.dont_write_bytecode = True          # no __pycache__ in tools/
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    import rcbench_tools as rt
    ...
    if __name__ == "__main__":
        rt.run(PROG, main)

and reports a known failure with `raise rt.Fail(message, code)`; run() turns
anything else that escapes into the right code and one line.
"""
import argparse
import csv
import os
import signal
import sys
import tempfile
import traceback

INPUT, OS_ERROR = 2, 3


class Fail(Exception):
    """A failure the tool describes itself: str(e) is the line (without the
    tool's name), e.code the exit status (INPUT unless told)."""

    def __init__(self, message, code=INPUT):
        super().__init__(message)
        self.code = code


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not usage + error."""

    def error(self, message):
        raise Fail(f"{message} (try --help)")


class _Closed:
    """sys.stdout when the tool started with fd 1 closed."""

    def write(self, text):
        raise OSError(9, "closed")                      # as EBADF would say it

    def flush(self):
        pass

    def reconfigure(self, **kw):
        pass


def say(text=""):
    """Prints a line to stdout; a failed write (a full disk, /dev/full) is an
    OS error of the tool's, not a crash."""
    try:
        sys.stdout.write(text + "\n")
    except OSError as e:
        raise Fail(f"standard output: {e.strerror}", OS_ERROR) from None


def flush_stdout():
    try:
        sys.stdout.flush()
    except OSError as e:
        raise Fail(f"standard output: {e.strerror}", OS_ERROR) from None


def write_atomic(path, data):
    """Writes `data` (str) to `path`: a temporary file in the same directory,
    synced, then renamed over it, so `path` is the old file or the whole new
    one. An OSError (unwritable directory, full disk) leaves nothing behind
    and propagates (run() makes it exit 3)."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)                       # mkstemp's 0600 is not a report's mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def one_line(text):
    """`text` as one printable line (a message may quote a bad field)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(text.split("\n")))


def _where(e):
    """FILE:LINE of the tool's code that raised `e`, for an unexpected error."""
    frames = traceback.extract_tb(e.__traceback__)
    return f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"


def _classify(e):
    """(exit status, message) for an exception a tool did not catch itself."""
    if isinstance(e, Fail):
        return e.code, str(e)
    if isinstance(e, MemoryError):
        return OS_ERROR, "out of memory"
    if isinstance(e, RecursionError):
        return INPUT, "input nested too deeply"
    if isinstance(e, UnicodeDecodeError):
        return INPUT, f"input is not UTF-8 text ({e.reason})"
    if isinstance(e, (csv.Error, ValueError)):  # json.JSONDecodeError is a ValueError
        return INPUT, f"malformed input: {e}"
    if isinstance(e, OSError):
        name = f"{e.filename}: " if e.filename is not None else ""
        return OS_ERROR, f"{name}{e.strerror or e}"
    if isinstance(e, KeyboardInterrupt):
        return 130, "interrupted"
    # A bug, most likely on input nobody foresaw: still one line, and where.
    return INPUT, f"internal error at {_where(e)}: {type(e).__name__}: {e}"


def run(prog, main, quiet_sigpipe=False):
    """Runs main() (which returns the exit status) and exits: stdout flushed
    and its failure reported, every exception mapped to a status and one
    line on stderr. Never returns. quiet_sigpipe: a closed pipe on stdout
    (`| head`) ends the tool quietly, as it does cat, instead of exit 3."""
    if quiet_sigpipe:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        if sys.stdout is None:                          # started with fd 1 closed (>&-):
            sys.stdout = _Closed()                      # an error when written, not before
        # A name the locale cannot encode (UTF-8 from the report, an ASCII
        # locale) is written escaped rather than failing the whole table.
        sys.stdout.reconfigure(errors="backslashreplace")
        try:
            code = main()
        except SystemExit as e:                         # --help, or sys.exit
            code = e.code if isinstance(e.code, int) else 0 if e.code is None else INPUT
        flush_stdout()
    except BaseException as e:                          # noqa: B036 — P7: nothing escapes
        code, message = _classify(e)
        try:
            sys.stderr.write(f"{prog}: {one_line(message)}\n")
            sys.stderr.flush()
        except (OSError, AttributeError):               # stderr full, or closed (None)
            pass                                        # nowhere left to say it
    try:
        sys.stdout.flush()
    except OSError:
        # What stdout still buffers would be flushed again at exit and print
        # "Exception ignored"; point fd 1 at /dev/null so that flush succeeds.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        if code == 0:
            code = OS_ERROR
    sys.exit(code)
