"""Training-data export: a recorded session as datasets that training libraries load.

    from logomesh_tui.export import export_session
    report = export_session("20261125-210531-3fa2c1", "openai-chat", name="refactor-run")

Formats: ``training-data`` (the seed's full structured record), ``openai-chat`` (TRL SFT
``messages``), ``sharegpt`` and ``dpo`` (TRL DPO ``prompt``/``chosen``/``rejected``). See
``formats.py`` for the records, ``quality.py`` for the rating formula and ``safety.py`` for
export names, atomic writes and secret scrubbing.
"""

from .exporter import (
    ExportReport,
    build_records,
    default_exports_dir,
    export_session,
    export_session_async,
)
from .formats import FORMATS, dpo_pairs, session_metadata
from .quality import QualityRating, rate_messages
from .safety import ExportNameError, SecretLeakError, SecretScrubber, safe_export_name
from .view import SessionView, load_session

__all__ = [
    "FORMATS", "ExportNameError", "ExportReport", "QualityRating", "SecretLeakError",
    "SecretScrubber", "SessionView", "build_records", "default_exports_dir", "dpo_pairs",
    "export_session", "export_session_async", "load_session", "rate_messages", "safe_export_name", "session_metadata",
]
