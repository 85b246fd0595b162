"""The exceptions the frontend raises.

Every error says what is wrong in words a user can act on, and carries the
facts as attributes for programs: which argument, which line and column.
"""


class AttncError(Exception):
    """Base class of every error raised by this package."""


class ModelError(AttncError, ValueError):
    """A model that is not valid .attn: a shape, a name or an attribute.

    ``op`` is the operation being built ("linear", "+", a block's name) and
    ``argument`` the parameter at fault ("w", "heads"), when there is one.
    Errors found while parsing text also carry ``file``, ``line`` and
    ``column`` (1-based), and the message starts with ``file:line:col:``.
    """

    def __init__(self, message, *, op=None, argument=None, file=None,
                 line=None, column=None):
        self.message = message
        self.op = op
        self.argument = argument
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self._text())

    def _text(self):
        if self.line is None:
            return self.message
        return "%s:%d:%d: %s" % (self.file or "<text>", self.line,
                                 self.column, self.message)

    def located(self, file, line, column):
        """The same error, placed at a position of a parsed text."""
        return type(self)(self.message, op=self.op, argument=self.argument,
                          file=file, line=line, column=column)


class ParseError(ModelError):
    """Text that is not .attn syntax (always located)."""


class Diagnostic:
    """One ``file:line:col: severity: message`` line from attnc."""

    def __init__(self, severity, message, file=None, line=None, column=None):
        self.severity = severity  # "error", "warning" or "note"
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def __str__(self):
        if self.line is None:
            return "%s: %s" % (self.severity, self.message)
        return "%s:%d:%d: %s: %s" % (self.file, self.line, self.column,
                                     self.severity, self.message)

    def __repr__(self):
        return "Diagnostic(%r)" % str(self)


class CompileError(AttncError):
    """attnc rejected the model or failed.

    ``file``, ``line``, ``column`` and ``message`` come from attnc's first
    error (``line`` is None for errors without a position, such as a bad
    option); ``diagnostics`` holds every diagnostic, ``output`` attnc's whole
    error output and ``exit_code`` its exit status (docs/cli.md: 1 input,
    2 usage, 3 internal error).
    """

    def __init__(self, message, *, file=None, line=None, column=None,
                 diagnostics=(), output="", exit_code=None, command=()):
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.diagnostics = list(diagnostics)
        self.output = output
        self.exit_code = exit_code
        self.command = list(command)
        where = "" if line is None else "%s:%d:%d: " % (file, line, column)
        super().__init__(where + message)


class ArgumentError(AttncError, ValueError):
    """A kernel was called with a missing, extra or mis-shaped argument, or
    save_weights was given a tensor it cannot write.

    ``argument`` names it as the model does.
    """

    def __init__(self, message, argument=None):
        self.argument = argument
        super().__init__(message)


class KernelError(AttncError, RuntimeError):
    """The runtime could not open or run a compiled kernel."""
