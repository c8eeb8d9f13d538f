"""The DevShell command language: parsing, binding, errors that point and list, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from logomesh_tui.commands import (
    COMMANDS,
    Command,
    CommandSyntaxError,
    Vocabulary,
    bind,
    parse_command,
    parse_script,
)

VOCAB = Vocabulary(roles=["primary-analyzer", "documentation-writer"],
                   models=["smollm2-135m", "qwen2.5-coder-1.5b", "gemma-3-270m"],
                   sessions=["20261125-120000-abc123"])


@pytest.mark.parametrize("text,target,args,kwargs", [
    ('llm.registry.load("qwen2.5-coder-1.5b", "primary-analyzer")',
     ("llm", "registry", "load"), ("qwen2.5-coder-1.5b", "primary-analyzer"), {}),
    ('llm.registry.hotswap("documentation-writer", "smollm2-135m")',
     ("llm", "registry", "hotswap"), ("documentation-writer", "smollm2-135m"), {}),
    ('llm.registry.unload("primary-analyzer")', ("llm", "registry", "unload"),
     ("primary-analyzer",), {}),
    ("llm.registry.list()", ("llm", "registry", "list"), (), {}),
    ('conversation.export("multi-model-refactor-session", format="training-data")',
     ("conversation", "export"), ("multi-model-refactor-session",),
     {"format": "training-data"}),
    ("conversation.start('Review it', protocol='debate', max_rounds=3, roles=['a', 'b',],)",
     ("conversation", "start"), ("Review it",),
     {"protocol": "debate", "max_rounds": 3, "roles": ["a", "b"]}),
    ('llm.registry.pin("r", false)', ("llm", "registry", "pin"), ("r", False), {}),
    ('llm.registry.load("m", "r", pinned=True, priority=-2)', ("llm", "registry", "load"),
     ("m", "r"), {"pinned": True, "priority": -2}),
    ("help", ("help",), (), {}),
    ('  help ( "conversation.start" )  # trailing comment', ("help",),
     ("conversation.start",), {}),
    (r'conversation.start("line\nnext \"q\" \u00e9")', ("conversation", "start"),
     ('line\nnext "q" \u00e9',), {}),
    ("x.y(1.5e3, none, null, [])", ("x", "y"), (1500.0, None, None, []), {}),
])
def test_seed_commands_parse_to_typed_commands(text, target, args, kwargs):
    cmd = parse_command(text)
    assert isinstance(cmd, Command)
    assert cmd.target == target and cmd.args == args and cmd.kwargs == kwargs


def test_several_commands_on_one_line():
    cmds = parse_script('llm.registry.list(); help() ;')
    assert [c.name for c in cmds] == ["llm.registry.list", "help"]
    assert parse_script("   ") == [] and parse_script("# only a comment") == []


def test_str_of_a_command_parses_back_to_itself():
    cmd = parse_command('conversation.start("a \\"b\\"\\n", roles=["x"], max_rounds=2)')
    assert parse_command(str(cmd)).args == cmd.args
    assert parse_command(str(cmd)).kwargs == cmd.kwargs


@pytest.mark.parametrize("text,column,fragment", [
    ('llm.registry.load("a", "b"', 27, "expected ',' or ')'"),
    ('llm.registry.load("a, "b")', 25, "never closed"),
    ('llm.registry.load("abc', 19, "never closed"),
    ("llm.registry.load(smollm2, 'r')", 19, 'put text in quotes: "smollm2"'),
    ('llm.registry.load(qwen2.5-coder-1.5b, "r")', 26, "put model and role names in quotes"),
    ('llm.registry.load("a" "b")', 23, "expected ',' or ')'"),
    ('llm..load()', 5, "expected a name after '.'"),
    ('(1)', 1, "expected a command name"),
    ('help(x=1, 2)', 11, "positional argument after a keyword"),
    ('help(x=1, x=2)', 11, "given twice"),
    ('help(1 2)', 8, "expected ',' or ')'"),
    ('help([1, 2)', 11, "expected ',' or ']'"),
    ('help("\\q")', 7, "unknown escape"),
    ('help(1.2.3)', 6, "not a number"),
    ('help(12abc)', 6, "not a number"),
    ('help() help()', 8, "put ';' between commands"),
    ('help(@)', 6, "unexpected character '@'"),
    ("__import__('os').system('rm -rf /')", 17, "a command is one dotted name"),
])
def test_syntax_errors_name_the_column_and_what_is_expected(text, column, fragment):
    with pytest.raises(CommandSyntaxError) as info:
        parse_command(text)
    err = info.value
    assert err.column == column, str(err)
    assert fragment in str(err)
    assert "\n" not in str(err)
    caret = err.caret().splitlines()
    assert caret[0] == text and caret[1].index("^") == column - 1


def test_unknown_command_suggests_and_lists():
    with pytest.raises(CommandSyntaxError) as info:
        bind(parse_command('llm.registry.lod("a", "b")'), VOCAB)
    msg = str(info.value)
    assert "did you mean llm.registry.load" in msg
    assert all(spec.name in msg for spec in COMMANDS)
    with pytest.raises(CommandSyntaxError, match="llm.registry is a group"):
        bind(parse_command("llm.registry()"))


@pytest.mark.parametrize("text,fragment,column", [
    ('llm.registry.load("smollm2-135m")', "needs 'role' (str)", 1),
    ('llm.registry.load("a", "b", true, 1, 2)', "takes at most 4 arguments", 38),
    ('llm.registry.load(1, "r")', "'model_id' must be str, got an int", 19),
    ('llm.registry.load("smollm2-135m", "r", pinned="yes")', "'pinned' must be bool", 40),
    ('llm.registry.load("smollm2-135m", "r", colour=1)', "no parameter 'colour'; "
                                                          "parameters: model_id, role", 40),
    ('llm.registry.load("smollm2-135m", "r", role="x")', "given both by position", 40),
    ('llm.registry.load("llama-99b", "r")', "unknown model 'llama-99b'; known: smollm2-135m",
     19),
    ('llm.registry.load("smollm2-13m", "r")', "did you mean smollm2-135m", 19),
    ('llm.registry.load("primary-analyzer", "smollm2-135m")', "is a role, not a model", 19),
    ('llm.registry.load("smollm2-135m", "bad role!")', "not a valid role name", 35),
    ('llm.registry.hotswap("critic", "smollm2-135m")', "no role 'critic' is loaded; "
                                                      "loaded roles: primary-analyzer, "
                                                      "documentation-writer", 22),
    ('llm.registry.hotswap("smollm2-135m", "documentation-writer")', "is a model, not a role",
     22),
    ('llm.registry.unload("ghost")', "no role 'ghost'", 21),
    ('conversation.start("x", protocol="fourround")', "valid: four-round, round-robin, debate",
     25),
    ('conversation.start("x", max_rounds=0)', "at least 1", 25),
    ('conversation.start("x", roles=["primary-analyzer", "ghost"])', "no role 'ghost'", 25),
    ('conversation.start("x", roles=[1])', "must be list[str]", 25),
    ('conversation.export("n", format="csv")', "valid: training-data, openai-chat, "
                                               "sharegpt, dpo", 26),
    ('session.open("19990101")', "no session '19990101'", 14),
    ('help("nope")', "no command 'nope'", 6),
])
def test_binding_errors_point_at_the_argument_and_list_valid_values(text, fragment, column):
    with pytest.raises(CommandSyntaxError) as info:
        bind(parse_command(text), VOCAB)
    assert fragment in str(info.value)
    assert info.value.column == column
    assert "\n" not in str(info.value)


def test_binding_fills_defaults_and_accepts_engine_resolved_models():
    b = bind(parse_command('llm.registry.load("smollm2-135m", "new-role")'), VOCAB)
    assert b.values == {"model_id": "smollm2-135m", "role": "new-role", "pinned": False,
                        "priority": 0}
    for model in ("remote:lab", "/models/x.gguf"):
        assert bind(parse_command(f'llm.registry.load("{model}", "r")'), VOCAB)["model_id"] \
            == model
    b = bind(parse_command('conversation.start("go")'), VOCAB)
    assert b["protocol"] == "four-round" and b["max_rounds"] is None
    assert bind(parse_command('session.open("20261125")'), VOCAB)["session_id"] == "20261125"
    # Without a vocabulary, well-formed names are accepted.
    assert bind(parse_command('llm.registry.hotswap("any", "thing")'))["role"] == "any"


def test_every_command_has_help_and_an_example_that_binds():
    for spec in COMMANDS:
        assert spec.summary and spec.help_text().startswith(spec.name + "(")
        cmd = parse_command(spec.example)
        assert cmd.name == spec.name
        bind(cmd)


ALPHABET = st.sampled_from(list('llm.registry.load("qwen2.5-coder", \'r\')[]=;,#\\ \n\t0123456789'
                                "_-+eE.xyz") + ["__import__", "os", "system", "eval", "exec",
                                                "conversation", "start", "help", "\u00e9",
                                                "\x00", "\ud7ff", "None", "true"])


@given(st.one_of(st.text(max_size=120), st.lists(ALPHABET, max_size=40).map("".join)))
@settings(max_examples=1500, deadline=None)
@example('"\\\n')  # a backslash before a line break once printed the break into the error
def test_fuzz_any_input_gives_a_command_or_a_clear_error(text):
    try:
        commands = parse_script(text)
    except CommandSyntaxError as exc:
        message = str(exc)
        assert message and "\n" not in message
        assert exc.column is None or 1 <= exc.column <= len(text) + 1
        exc.caret()
        return
    for cmd in commands:
        assert all(part.isidentifier() for part in cmd.target)
        try:
            bind(cmd, VOCAB)
        except CommandSyntaxError as exc:
            assert str(exc) and "\n" not in str(exc)


@pytest.mark.parametrize("text", [
    "__import__('os').system('touch /tmp/logomesh-pwned')",
    "eval('1+1')",
    "exec('import os')",
    "().__class__.__bases__[0].__subclasses__()",
    "llm.registry.load(__import__('os').getcwd(), 'r')",
    "help(open('/etc/passwd').read())",
    "help(lambda: 1)",
    "help(f'{1}')",
    "help(1 if True else 2)",
    "help(*args)",
    "help(**{'a': 1})",
    "conversation.start('x').__globals__",
])
def test_code_is_only_text(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        for cmd in parse_script(text):
            bind(cmd, VOCAB)
    except CommandSyntaxError:
        pass
    else:  # pragma: no cover - none of these may bind
        pytest.fail(f"{text!r} was accepted")
    assert list(tmp_path.iterdir()) == []
