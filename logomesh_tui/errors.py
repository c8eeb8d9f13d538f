"""Errors the engine raises. Every message is one line that says what was wrong and what to do."""


class LogoMeshError(Exception):
    """Base class: a user-facing error with a one-line message."""


class UnknownModelError(LogoMeshError):
    pass


class UnknownRoleError(LogoMeshError):
    pass


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


class RemoteServerError(LogoMeshError):
    pass


class PullError(LogoMeshError):
    pass
