"""Errors the engine raises. Every message is one line that says what was wrong and what to do."""


# Exit codes of the command line, one meaning each (README: "Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1       # the operation was tried and failed
EXIT_BAD_INPUT = 2    # bad usage or input: nothing was tried
EXIT_INTERRUPTED = 130


class LogoMeshError(Exception):
    """Base class: a user-facing error with a one-line message. ``exit_code`` is what the
    command line exits with when it ends a command."""

    exit_code = EXIT_FAILED


class UsageError(LogoMeshError):
    """The command line asked for something that cannot be done as asked."""

    exit_code = EXIT_BAD_INPUT


class UnknownModelError(LogoMeshError):
    exit_code = EXIT_BAD_INPUT


class UnknownRoleError(LogoMeshError):
    exit_code = EXIT_BAD_INPUT


class ModelFileError(LogoMeshError):
    """The GGUF file is missing, truncated, not GGUF, or of an unknown architecture."""


class MemoryBudgetError(LogoMeshError):
    pass


class WorkerCrashedError(LogoMeshError):
    """The worker process serving a role died or stopped answering."""


class GenerationCancelled(LogoMeshError):
    pass


class ContextOverflowError(LogoMeshError):
    pass


class RequestError(LogoMeshError):
    """The model refused one request (bad parameters); its worker is still serving."""


class ConfigError(LogoMeshError):
    """The config file or a LOGOMESH_ environment variable has a wrong or unknown field."""

    exit_code = EXIT_BAD_INPUT


class RemoteServerError(LogoMeshError):
    pass


class PullError(LogoMeshError):
    pass


def describe_validation_error(exc) -> str:
    """A pydantic ValidationError as one line in the project's style: ``field.path: what``."""
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        parts.append(f"{loc}: {msg}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
