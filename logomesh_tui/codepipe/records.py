"""What a refactor run records: the findings it works on, the candidates it tries, the changes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Finding(BaseModel):
    """One problem, with where it is and what found it (lint | runtime | measure)."""

    source: str
    rule: str
    file: str
    line: int = 0
    message: str

    def label(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.rule} at {where}"


class CandidateRecord(BaseModel):
    origin: str  # eslint-suggestion | model greedy | model repair | model sample
    model_id: str = ""
    message_id: str | None = None
    size: int = 0
    passed: bool = False
    verdict: str = ""
    diff: str = ""


class ChangeRecord(BaseModel):
    """One finding worked on: the candidates tried, the verdicts, and the kept change."""

    index: int
    file: str
    chunk: str  # the finding's label (kept under this name for the report and the front ends)
    name: str
    status: str  # accepted | rejected | resolved-earlier | skipped
    reason: str = ""
    finding: Finding | None = None
    excerpt: str = ""
    candidates: list[CandidateRecord] = Field(default_factory=list)
    final_from: str = ""
    final_message_id: str | None = None
    removed: list[str] = Field(default_factory=list)
    diff: str = ""  # a unified diff with a section per changed file
    files: list[str] = Field(default_factory=list)  # the files the kept change touches
    documentation: str = ""
    doc_model_sentence: str = ""
    doc_identifiers_unknown: list[str] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    # The project's covering tests with this change in place (passed/failed), when it has some.
    tests: dict | None = None
