"""Tokenizer and recursive-descent parser for the DevShell command language.

The language is the call syntax of the seed's DevShell, and nothing more::

    llm.registry.load("qwen2.5-coder-1.5b", "primary-analyzer")
    conversation.start("Review this", protocol="four-round", max_rounds=4)
    help()

Grammar (``;`` separates commands on one line)::

    script   := command (";" command)* [";"]
    command  := path [ "(" [ args ] ")" ]
    path     := NAME ("." NAME)*
    args     := arg ("," arg)* [","]
    arg      := NAME "=" value | value
    value    := STRING | NUMBER | true | false | none | "[" [ value ("," value)* [","] ] "]"

The parser builds data, never code: there is no eval, exec or compile anywhere, so text such as
``__import__('os').system('rm -rf /')`` is only a command path that does not exist (or a syntax
error). Every error is a :class:`CommandSyntaxError` that knows its column and can draw a caret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import LogoMeshError

MAX_COMMAND_LENGTH = 20_000
MAX_LIST_DEPTH = 8

# Literal words. Python spellings and JSON spellings are both accepted, since people type both.
_WORDS: dict[str, Any] = {
    "True": True, "true": True, "False": False, "false": False,
    "None": None, "none": None, "null": None,
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


class CommandSyntaxError(LogoMeshError):
    """The text is not a well-formed command. ``column`` is 1-based; ``caret()`` draws it."""

    def __init__(self, message: str, source: str = "", column: int | None = None) -> None:
        self.reason = message
        self.source = source
        self.column = column
        where = f"column {column}: " if column is not None else ""
        super().__init__(f"{where}{message}")

    def caret(self) -> str:
        """Two lines: the command and a ``^`` under the offending column (for REPL output)."""
        if self.column is None or not self.source or "\n" in self.source:
            return str(self)
        return f"{self.source}\n{' ' * (self.column - 1)}^ {self.reason}"


@dataclass(frozen=True)
class Token:
    kind: str  # NAME STRING NUMBER PUNCT END
    value: Any
    pos: int  # 0-based offset into the source
    text: str


@dataclass(frozen=True)
class Argument:
    """One argument as written, with where it starts (for error messages)."""

    value: Any
    pos: int
    name: str | None = None


@dataclass(frozen=True)
class Command:
    """A parsed command: ``target`` is the dotted path, e.g. ``("llm", "registry", "load")``.

    ``args`` and ``kwargs`` hold plain Python literals (str, int, float, bool, None, list).
    ``source`` is the text the command came from; ``positions`` maps ``"#0"`` / keyword names to
    the 0-based offset where that argument starts, so later checks can point at it.
    """

    target: tuple[str, ...]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    start: int = 0
    positions: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return ".".join(self.target)

    def error_at(self, key: str | None, message: str) -> CommandSyntaxError:
        """An error pointing at argument ``key`` ("#0", "#1", or a keyword), or the command."""
        pos = self.positions.get(key, self.start) if key is not None else self.start
        return CommandSyntaxError(message, self.source, pos + 1)

    def __str__(self) -> str:
        parts = [_literal(a) for a in self.args]
        parts += [f"{k}={_literal(v)}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_name_char(ch: str) -> bool:
    return _is_name_start(ch) or ("0" <= ch <= "9") or ch == "-"


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; raise CommandSyntaxError at the first bad character.

    Names may contain ``-`` (``four-round`` needs no quotes as a bare word is never a value,
    but role names typed in paths are caught with a clear message rather than a crash).
    """
    if len(source) > MAX_COMMAND_LENGTH:
        raise CommandSyntaxError(
            f"command is {len(source)} characters long; the limit is {MAX_COMMAND_LENGTH}")
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in " \t\r\n":
            i += 1
        elif ch == "#":  # comment to end of line, handy in scripts and history
            while i < n and source[i] != "\n":
                i += 1
        elif _is_name_start(ch):
            j = i + 1
            while j < n and _is_name_char(source[j]):
                j += 1
            tokens.append(Token("NAME", source[i:j], i, source[i:j]))
            i = j
        elif ch in "\"'":
            value, j = _read_string(source, i)
            tokens.append(Token("STRING", value, i, source[i:j]))
            i = j
        elif ch.isdigit() or (ch == "." and i + 1 < n and source[i + 1].isdigit()) or (
                ch in "+-" and i + 1 < n and (source[i + 1].isdigit() or source[i + 1] == ".")):
            number, j = _read_number(source, i)
            tokens.append(Token("NUMBER", number, i, source[i:j]))
            i = j
        elif ch in "().,=[];":
            tokens.append(Token("PUNCT", ch, i, ch))
            i += 1
        elif ch == "-":
            raise CommandSyntaxError(
                "unexpected '-'; put model and role names in quotes, e.g. "
                '"qwen2.5-coder-1.5b"', source, i + 1)
        else:
            shown = ch if ch.isprintable() else repr(ch)
            raise CommandSyntaxError(
                f"unexpected character {shown!r}; commands look like "
                f'llm.registry.load("model", "role")', source, i + 1)
    tokens.append(Token("END", None, n, ""))
    return tokens


def _read_string(source: str, start: int) -> tuple[str, int]:
    quote = source[start]
    out: list[str] = []
    i, n = start + 1, len(source)
    while i < n:
        ch = source[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = source[i + 1]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                i += 2
                continue
            if esc == "u":
                digits = source[i + 2:i + 6]
                if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                    code = int(digits, 16)
                    # Lone surrogates cannot be encoded later (UTF-8 files, terminals).
                    if 0xD800 <= code <= 0xDFFF:
                        raise CommandSyntaxError("\\u escape names a lone surrogate",
                                                 source, i + 1)
                    out.append(chr(code))
                    i += 6
                    continue
                raise CommandSyntaxError("\\u needs four hex digits, e.g. \\u00e9", source, i + 1)
            # The message is one line: a line break or other control character after the
            # backslash is named, not printed.
            shown = f"\\{esc}" if esc.isprintable() else f"\\ followed by U+{ord(esc):04X}"
            raise CommandSyntaxError(
                f"unknown escape {shown}; valid: \\n \\t \\r \\0 \\\\ \\' \\\" \\uXXXX",
                source, i + 1)
        if ch == "\n":
            break
        out.append(ch)
        i += 1
    raise CommandSyntaxError(f"string opened here is never closed; add a closing {quote}",
                             source, start + 1)


def _read_number(source: str, start: int) -> tuple[int | float, int]:
    i, n = start, len(source)
    if source[i] in "+-":
        i += 1
    while i < n and (source[i].isdigit() or source[i] in "._eE" or
                     (source[i] in "+-" and source[i - 1] in "eE")):
        i += 1
    text = source[start:i].replace("_", "")
    if i < n and _is_name_start(source[i]):
        raise CommandSyntaxError(f"{source[start:i + 1]!r} is not a number; quote text "
                                 f"as a string", source, start + 1)
    try:
        if any(c in text for c in ".eE"):
            value: int | float = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
        else:
            value = int(text)
    except ValueError:
        raise CommandSyntaxError(f"{source[start:i]!r} is not a number", source,
                                 start + 1) from None
    return value, i


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message: str, tok: Token | None = None) -> CommandSyntaxError:
        tok = tok or self.tok
        return CommandSyntaxError(message, self.source, tok.pos + 1)

    def at(self, value: str) -> bool:
        return self.tok.kind == "PUNCT" and self.tok.value == value

    def describe(self, tok: Token) -> str:
        return "end of input" if tok.kind == "END" else repr(tok.text)

    def script(self) -> list[Command]:
        commands: list[Command] = []
        while self.tok.kind != "END":
            if self.at(";"):
                self.advance()
                continue
            commands.append(self.command())
            if self.tok.kind != "END" and not self.at(";"):
                done = ".".join(commands[-1].target)
                raise self.error(f"unexpected {self.describe(self.tok)} after {done}(...); "
                                 f"a command is one dotted name and its (arguments), e.g. "
                                 f"llm.registry.list(); results cannot be chained or called; "
                                 f"put ';' between commands")
        return commands

    def command(self) -> Command:
        start = self.tok
        if start.kind != "NAME":
            raise self.error(f"expected a command name such as llm.registry.list, "
                             f"got {self.describe(start)}")
        parts = [self.name_part()]
        while self.at("."):
            self.advance()
            if self.tok.kind != "NAME":
                raise self.error(f"expected a name after '.', got {self.describe(self.tok)}")
            parts.append(self.name_part())
        args: list[Argument] = []
        if self.at("("):
            self.advance()
            args = self.arguments()
            if not self.at(")"):
                raise self.error(f"expected ',' or ')' in the argument list, "
                                 f"got {self.describe(self.tok)}")
            self.advance()
        positional: list[Any] = []
        kwargs: dict[str, Any] = {}
        positions: dict[str, int] = {}
        for arg in args:
            if arg.name is None:
                if kwargs:
                    raise CommandSyntaxError("positional argument after a keyword argument",
                                             self.source, arg.pos + 1)
                positions[f"#{len(positional)}"] = arg.pos
                positional.append(arg.value)
            else:
                if arg.name in kwargs:
                    raise CommandSyntaxError(f"keyword {arg.name!r} given twice",
                                             self.source, arg.pos + 1)
                positions[arg.name] = arg.pos
                kwargs[arg.name] = arg.value
        return Command(tuple(parts), tuple(positional), kwargs, self.source, start.pos, positions)

    def name_part(self) -> str:
        tok = self.advance()
        if "-" in tok.text:
            raise self.error(f"{tok.text!r} is not a command name; quote names of models and "
                             f"roles as strings, e.g. \"{tok.text}\"", tok)
        return tok.text

    def arguments(self) -> list[Argument]:
        args: list[Argument] = []
        while not self.at(")") and self.tok.kind != "END":
            tok = self.tok
            nxt = self.tokens[self.i + 1]
            if tok.kind == "NAME" and nxt.kind == "PUNCT" and nxt.value == "=":
                if "-" in tok.text:
                    raise self.error(f"keyword {tok.text!r} is not valid; keywords use '_'", tok)
                self.advance()
                self.advance()
                args.append(Argument(self.value(0), tok.pos, tok.text))
            else:
                args.append(Argument(self.value(0), tok.pos))
            if self.at(","):
                self.advance()
            else:
                break
        return args

    def value(self, depth: int) -> Any:
        tok = self.tok
        if tok.kind in ("STRING", "NUMBER"):
            self.advance()
            return tok.value
        if tok.kind == "NAME":
            if tok.text in _WORDS:
                self.advance()
                return _WORDS[tok.text]
            raise self.error(f"{tok.text!r} is not a value; put text in quotes: "
                             f"\"{tok.text}\"", tok)
        if self.at("["):
            if depth >= MAX_LIST_DEPTH:
                raise self.error(f"lists nest deeper than {MAX_LIST_DEPTH} levels")
            self.advance()
            items: list[Any] = []
            while not self.at("]"):
                items.append(self.value(depth + 1))
                if self.at(","):
                    self.advance()
                elif not self.at("]"):
                    raise self.error(f"expected ',' or ']' in the list, "
                                     f"got {self.describe(self.tok)}")
            self.advance()
            return items
        raise self.error(f"expected a value (\"text\", a number, true/false, none or [list]), "
                         f"got {self.describe(tok)}")


def parse_script(source: str) -> list[Command]:
    """Parse one line that may hold several commands separated by ``;``."""
    if not isinstance(source, str):
        raise CommandSyntaxError("a command must be text")
    return _Parser(source).script()


def parse_command(source: str) -> Command:
    """Parse exactly one command; raise CommandSyntaxError with a column otherwise."""
    commands = parse_script(source)
    if not commands:
        raise CommandSyntaxError("empty command; type help() to list commands")
    if len(commands) > 1:
        raise CommandSyntaxError("one command expected, got several separated by ';'",
                                 source, commands[1].start + 1)
    return commands[0]
