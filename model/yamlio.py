"""YAML reading that remembers the line of every key, and atomic file writing."""

from __future__ import annotations

import difflib
import json
import os
import re
import stat
import tempfile
import threading
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from model.errors import InputError, InputErrors

T = TypeVar("T", bound=BaseModel)


MAX_DEPTH = 40          # nesting deeper than any input of ours needs
MAX_BYTES = 5_000_000   # a scenario or data file is a few kB

_BOOL, _INT, _FLOAT = ("tag:yaml.org,2002:" + t for t in ("bool", "int", "float"))
_DROPPED = {_BOOL, _INT, _FLOAT, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge"}


class CoreLoader(yaml.SafeLoader):
    """YAML 1.2 core schema: ``true``/``false`` are the only booleans (no ``yes``, ``on``),
    integers are decimal, ``0o`` or ``0x`` (no ``1:30`` read as 90, no ``010`` as 8), floats
    as in JSON plus ``.inf``/``.nan`` (refused later), and dates stay text for the schemas to
    check. PyYAML reads YAML 1.1, whose leftovers turn typos into numbers."""


CoreLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
CoreLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
CoreLoader.add_implicit_resolver(_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                                 list("-+0123456789"))
CoreLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


def _core_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    return int(text, 0) if text[:2] in ("0o", "0x") else int(text, 10)


CoreLoader.add_constructor(_INT, _core_int)
#: a loader per thread reads mapping keys' values (``_key_value``; loaders are not thread-safe
#: and the dashboard reads scenarios in its run thread too)
_KEYS = threading.local()


def _key_loader() -> CoreLoader:
    if not hasattr(_KEYS, "loader"):
        _KEYS.loader = CoreLoader("")
    return _KEYS.loader


def _check_events(text: str, path: Path) -> None:
    """Refuse, before anything is built, what could knock the loader over: aliases (a
    ten-line alias bomb expands to gigabytes) and nesting deeper than MAX_DEPTH (the composer
    recurses). Parsing events is linear in the text, so the check itself is cheap."""
    depth = 0
    for event in yaml.parse(text, Loader=CoreLoader):
        if isinstance(event, yaml.AliasEvent):
            raise InputError(path, None, f"YAML aliases (*{event.anchor}) are not allowed: write "
                             "the value out", event.start_mark.line + 1)
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)) and (
                event.tag not in (None, "!")):
            raise InputError(path, None, f"YAML tags ({event.tag}) are not allowed: write the "
                             "plain value", event.start_mark.line + 1)
        if isinstance(event, yaml.ScalarEvent) and event.value == "<<" and event.implicit[0]:
            raise InputError(path, None, "YAML merge keys (<<) are not allowed: write the keys "
                             "out", event.start_mark.line + 1)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(path, None, f"nested more than {MAX_DEPTH} levels deep",
                                 event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _key_lines(node: yaml.Node, prefix: str, lines: dict[str, int], path: Path | None = None) -> None:
    """Record the 1-based line of every mapping key and list item, by dotted path; a key given
    twice in one mapping is an error naming both lines (YAML would silently keep the last)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            same = _key_value(key_node)   # 2023 and 0x7e7 are one key
            if same in seen:
                key = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
                raise InputError(path, key, f"given twice (lines {seen[same]} and "
                                 f"{line}); keep one", line)
            seen[same] = line
            key = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            lines[key] = line
            _key_lines(value_node, key, lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key = f"{prefix}[{i}]"
            lines[key] = item.start_mark.line + 1
            _key_lines(item, key, lines, path)


def _key_value(node: yaml.Node) -> Any:
    """A mapping key as the loader reads it (so two spellings of one number are one key)."""
    if not isinstance(node, yaml.ScalarNode):
        return ("node", node.start_mark.line, node.start_mark.column)
    loader = _key_loader()
    try:
        value = loader.construct_object(node)
    except (ValueError, yaml.YAMLError):
        return str(node.value)
    finally:
        loader.constructed_objects.clear()   # its cache would keep every key ever read
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        return int(value)          # '2023' and 2023 are one year
    return str(value) if isinstance(value, bool) else value


def _first_bad_scalar(node: yaml.Node, prefix: str = "") -> tuple[int, str] | None:
    """(line, key) of the first scalar that YAML cannot construct (such as a bad date)."""
    if isinstance(node, yaml.MappingNode):
        items = [(f"{prefix}.{k.value}" if prefix else str(k.value), v) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        items = [(f"{prefix}[{i}]", v) for i, v in enumerate(node.value)]
    else:
        try:
            CoreLoader("").construct_object(node)
        except ValueError:
            return node.start_mark.line + 1, prefix
        return None
    for key, child in items:
        found = _first_bad_scalar(child, key)
        if found:
            return found
    return None


def load_yaml_with_lines(path: str | Path) -> tuple[Any, dict[str, int]]:
    """Load a YAML file; return (data, {dotted.key: line}). Errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(path, None, f"file larger than {MAX_BYTES // 1_000_000} MB: not a data file of ours")
    try:
        text = path.read_text(encoding="utf-8")
        _check_events(text, path)
        node = yaml.compose(text, Loader=CoreLoader)
        data = yaml.load(text, Loader=CoreLoader)  # noqa: S506 (a safe loader, YAML 1.2 core)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line
        raise InputError(path, None, f"malformed YAML: {problem}", line) from None
    except UnicodeDecodeError as exc:
        raise InputError(path, None, f"not UTF-8 text: {exc}") from None
    except ValueError as exc:  # a well-formed scalar with an impossible value, e.g. 2026-02-30
        bad = _first_bad_scalar(yaml.compose(text, Loader=CoreLoader))
        line, key = bad if bad else (None, None)
        raise InputError(path, key, f"invalid value: {exc}", line) from None
    if node is None:
        return {}, {}
    lines: dict[str, int] = {}
    _key_lines(node, "", lines, path)
    return data, lines


def nearest_line(lines: dict[str, int], loc: tuple) -> int | None:
    """Line of the deepest key of `loc` that the file has (lists as ``key[i]``)."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] = f"{parts[-1]}[{part}]"
        else:
            parts.append(str(part))
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in lines:
            return lines[key]
    return None


def validated(schema: type[T], data: Any, path: str | Path, lines: dict[str, int]) -> T:
    """`data` through a pydantic schema; every error as one line naming file, line and key."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise validation_errors(exc, schema, lambda loc: (path, nearest_line(lines, loc))) from None


def validation_errors(exc: ValidationError, schema: type[BaseModel],
                      locate: Callable[[tuple[Any, ...]], tuple[str | Path, int | None]]) -> InputError:
    """All of a validation's errors, each in plain words (no library internals) with a
    did-you-mean for an unknown key; `locate` gives the (file, line) of a location."""
    by_key: dict[tuple[Any, ...], list[str]] = {}
    for err in exc.errors():
        # a union's members show as extra location parts ('float', 'dict[int,float]'): one
        # problem per key, its messages joined
        loc = tuple(p for p in err["loc"] if not _UNION_TAG.match(str(p)))
        message = plain_message({**err, "loc": loc}, schema)
        if message not in by_key.setdefault(loc, []):
            by_key[loc].append(message)
    problems = []
    for loc, messages in by_key.items():
        file, line = locate(loc)
        problems.append(InputError(file, ".".join(str(p) for p in loc), "; or ".join(messages), line))
    problems.sort(key=lambda e: (e.file or "", e.line or 0))
    return problems[0] if len(problems) == 1 else InputErrors(problems)


_UNION_TAG = re.compile(r"^(float|int|str|bool|none|list\[.*\]|dict\[.*\]|function-.*|"
                        r"tagged-union.*|literal\[.*\])$")


def plain_message(err: dict[str, Any], schema: type[BaseModel]) -> str:
    kind, given = err["type"], err.get("input")
    if kind == "extra_forbidden":
        known = known_keys(schema, err["loc"][:-1])
        close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
        return "unknown key" + (f"; did you mean '{close[0]}'?" if close else
                                f" (known here: {', '.join(known)})" if known else "")
    if kind == "missing":
        return "required key missing"
    if kind == "string_pattern_mismatch":
        return (f"expected a name of letters, digits, _ . - (starting with a letter or digit), "
                f"got {given!r}")
    if kind.startswith("int"):
        return f"expected a whole number (integer), got {given!r}"
    if kind.startswith("float"):
        return f"expected a number, got {given!r}"
    if kind.startswith("bool"):
        return f"expected true or false, got {given!r}"
    if kind.startswith(("date", "datetime")):
        return f"expected a date as YYYY-MM-DD (or YYYY-MM), got {given!r}"
    if kind in ("list_type", "dict_type", "model_type", "string_type"):
        wanted = {"list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
                  "string_type": "text"}[kind]
        return f"expected {wanted}, got {given!r}"
    message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message[0].lower() + message[1:] if message else kind


def known_keys(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a schema accepts at a location (list items and mapping values followed)."""
    node: Any = schema
    for part in loc:
        node = _model_in(node)
        if node is None:
            return []
        if isinstance(part, int):
            continue
        field = node.model_fields.get(str(part))
        node = field.annotation if field is not None else None
    node = _model_in(node)
    return sorted(node.model_fields) if node is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (directly, or in a list, mapping or union)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


TMP_TAG = ".yichun-abm-"   # in the name of every temporary file the program writes


def _file_mode() -> int:
    """The mode a new file gets under the process's umask (0644 under the usual 022)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def check_replaceable(target: Path) -> None:
    """An output may replace a regular file, never a device, FIFO, socket, link or folder."""
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise InputError(target, None, "exists and is not a regular file; outputs replace only "
                         "regular files, so choose another path")


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` on success."""
    target = Path(target)
    check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}{TMP_TAG}", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _file_mode())  # mkstemp makes files private; respect the umask
        check_replaceable(target)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: str | Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(target: str | Path, data: Any) -> None:
    write_text_atomic(target, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


MAX_JSON_BYTES = 50_000_000     # the largest JSON the program writes (draws) is about 1 MB


def check_regular(path: str | Path, what: str, limit: int) -> None:
    """A file read back from a folder must be a regular file of a plausible size: a FIFO would
    block for ever, a device or a huge file would exhaust memory."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(path, None, f"unreadable {what} ({type(exc).__name__})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, None, f"{what} is not a regular file")
    if info.st_size > limit:
        raise InputError(path, None, f"{what} larger than {limit / 1e6:g} MB: not one this "
                         "program wrote")


def read_json(path: str | Path, what: str, expect: type | None = dict) -> Any:
    """A JSON file the program wrote (a stamp, a manifest), read defensively: regular file,
    bounded size, the expected top-level type. Damage is an InputError naming it."""
    check_regular(path, what, MAX_JSON_BYTES)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(path, None, f"unreadable {what} ({type(exc).__name__})") from None
    if expect is not None and not isinstance(data, expect):
        raise InputError(path, None, f"damaged {what}: expected a JSON "
                         f"{'object' if expect is dict else expect.__name__}, got "
                         f"{type(data).__name__}")
    return data


def read_text_file(path: str | Path, what: str, limit: int = MAX_JSON_BYTES) -> str:
    """A text file (a CSV table) read back defensively: regular, bounded, UTF-8."""
    check_regular(path, what, limit)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, None, f"unreadable {what} ({type(exc).__name__})") from None
    if "\x00" in text:
        raise InputError(path, None, f"damaged {what}: binary content")
    return text


def check_archive(path: str | Path, what: str, limit: int) -> None:
    """An .npz archive whose members would decompress to more than `limit` bytes (a zip bomb,
    or a header claiming a huge array) is refused before numpy allocates anything."""
    import zipfile

    check_regular(path, what, limit)
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise InputError(path, None, f"unreadable {what} ({type(exc).__name__})") from None
    if inflated > limit:
        raise InputError(path, None, f"{what} would inflate to {inflated / 1e6:.0f} MB: not one "
                         "this program wrote")
