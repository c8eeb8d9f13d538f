"""Model catalog and downloads."""

from .catalog import Catalog
from .gguf_meta import GGUFInfo, read_gguf_info
from .pull import pull, remove
from .specs import ModelSpec

__all__ = ["Catalog", "GGUFInfo", "ModelSpec", "pull", "read_gguf_info", "remove"]
