"""Reading a configuration file: YAML (``.yaml``, ``.yml``) or JSON (``.json``);
any other name is judged by its content.

YAML is read with a stricter resolver than YAML 1.1's: timestamps stay strings
(the validator wants to see whether they carry an offset), ``18:00`` stays a
string instead of the sexagesimal integer 1080, only ``true``/``false`` are
booleans (``on``/``no`` stay strings), and a key given twice in one mapping is
an error instead of silently keeping the last value.
"""

import json
import re
from pathlib import Path

import yaml

from provisioning.config.errors import ConfigError, Problem

MAX_FILE_BYTES = 10 * 1024 * 1024

_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?(?:0|[1-9][0-9_]*))$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_REPLACED = {
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
}


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with the resolver described in the module docstring."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # SafeLoader reports unhashable keys itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r} (first given on line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
StrictLoader.add_constructor("tag:yaml.org,2002:map", lambda loader, node: loader.construct_mapping(node, deep=True))


def _reject_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(value):
    raise ValueError(f"{value} is not valid JSON")


def parse_yaml(text, name):
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "malformed"
        raise ConfigError([Problem(name, f"{where}not valid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(name, f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise ConfigError([Problem(name, "not valid YAML: nested too deeply")]) from None


def parse_json(text, name):
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [Problem(name, f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}")]
        ) from None
    except ValueError as exc:
        raise ConfigError([Problem(name, f"not valid JSON: {exc}")]) from None
    except RecursionError:
        raise ConfigError([Problem(name, "not valid JSON: nested too deeply")]) from None


def parse_text(text, name):
    """Parse by the file's suffix; for any other name, text whose first
    character is ``{`` or ``[`` is JSON, anything else YAML."""
    suffix = Path(name).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return parse_yaml(text, name)
    if suffix == ".json":
        return parse_json(text, name)
    if text.lstrip()[:1] in ("{", "["):
        return parse_json(text, name)
    return parse_yaml(text, name)


def load_file(path):
    """Read and parse ``path``; raise ConfigError naming the file on failure."""
    path = Path(path)
    name = path.name
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError([Problem(str(path), f"cannot read the file: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError([Problem(name, f"the file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(name, f"not UTF-8 text (byte {exc.start})")]) from None
    document = parse_text(text, name)
    if not isinstance(document, dict):
        raise ConfigError([Problem(name, "the file must hold a mapping with 'partner' at the top")])
    return document
