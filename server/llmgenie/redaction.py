"""Secret redaction: every text bound for a model passes through `Redactor.redact` first.

Secrets (API keys, private keys, tokens, passwords, credentials in connection strings) are
replaced by stable placeholders such as ``«REDACTED:aws_access_key»``. Redaction is
idempotent: placeholders never match a rule, so redacting twice is harmless.

The rules run in order, most specific first: a PEM block is removed whole before its base64
lines could look like anything else; provider tokens with a recognisable shape go before the
generic "secret-ish name = value" rules, which then see a placeholder and leave it alone.
The generic rules are deliberately conservative about unquoted values, so ordinary code
(``password = request.form["password"]``, ``max_tokens=1024``) is not mangled.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

PLACEHOLDER_PREFIX = "«REDACTED:"


def placeholder(kind: str) -> str:
    """The text that replaces a secret of `kind`."""
    return f"{PLACEHOLDER_PREFIX}{kind}»"


@dataclass(frozen=True, slots=True)
class _TokenRule:
    """A secret with a recognisable shape: the whole match (or group `group`) is replaced."""

    kind: str
    pattern: re.Pattern[str]
    group: int = 0
    random_only: bool = False


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# Shaped tokens. Boundaries use look-arounds instead of \b so `_`/`-` inside tokens are fine.
_TOKEN_RULES: tuple[_TokenRule, ...] = (
    _TokenRule(
        "private_key",
        _rx(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
            re.S,
        ),
    ),
    _TokenRule(
        "connection_password",
        # scheme://user:PASSWORD@host — only the password is replaced.
        _rx(r"(?<![\w+.-])[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"<>]*:([^\s@/'\"<>]+)@"),
        group=1,
    ),
    _TokenRule("anthropic_api_key", _rx(r"(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}")),
    _TokenRule(
        "openai_api_key",
        _rx(r"(?<![\w-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]*T3BlbkFJ[A-Za-z0-9_-]+"),
    ),
    _TokenRule("openai_api_key", _rx(r"(?<![\w-])sk-(?:proj-|svcacct-)[A-Za-z0-9_-]{20,}")),
    _TokenRule("openai_api_key", _rx(r"(?<![\w-])sk-[A-Za-z0-9]{32,}(?![\w-])")),
    _TokenRule("stripe_key", _rx(r"(?<![\w-])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    _TokenRule(
        "aws_access_key", _rx(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
    ),
    _TokenRule("github_token", _rx(r"(?<![\w-])gh[pousr]_[A-Za-z0-9]{36,}")),
    _TokenRule("github_token", _rx(r"(?<![\w-])github_pat_[A-Za-z0-9_]{22,}")),
    _TokenRule("gitlab_token", _rx(r"(?<![\w-])glpat-[A-Za-z0-9_-]{20,}")),
    _TokenRule("slack_token", _rx(r"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}")),
    _TokenRule(
        "slack_webhook",
        _rx(r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
    ),
    _TokenRule("google_api_key", _rx(r"(?<![\w-])AIza[0-9A-Za-z_-]{35,40}")),
    _TokenRule("npm_token", _rx(r"(?<![\w-])npm_[A-Za-z0-9]{36}")),
    _TokenRule("huggingface_token", _rx(r"(?<![\w-])hf_[A-Za-z0-9]{34,}")),
    _TokenRule(
        "jwt",
        _rx(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),
    _TokenRule(
        "bearer_token",
        _rx(
            r"(?i)(?:authorization[\"']?\s*[:=]\s*[\"']?)?(?:bearer|token|basic)\s+"
            r"([A-Za-z0-9._~+/-]{16,}=*)"
        ),
        group=1,
        random_only=True,
    ),
)

# Names that hold secrets (matched case-insensitively inside a longer identifier).
_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|credentials?|auth[_-]?key|signing[_-]?key"
    r"|encryption[_-]?key|master[_-]?key|session[_-]?key|webhook[_-]?url|dsn"
)
_NAME = rf"[A-Za-z0-9_.-]*(?:{_SECRET_WORDS})[A-Za-z0-9_.-]*"
# Secret-ish names that are usually not secrets (counts, types, references, form fields).
_NOT_SECRET_NAME = re.compile(
    r"(?i)tokeni[sz]|tokens$|_tokens|max_?token|num_?token|token_?count|token_?type|token_?url"
    r"|token_?endpoint|token_?limit|secret_?name|secretname|secret_?ref|secretkeyref|password_?field"
    r"|password_?input|password_?hash|password_?reset|password_?length|password_?policy"
    r"|_?pwd_?context|secrets?_?dir|secrets?_?path|secret_?file|password_?file|token_?file"
)
# Names that may hold a key: redacted only when the value looks random (high entropy).
_KEYISH_NAME = r"[A-Za-z0-9_.-]*(?:key|salt|seed|signature|sig|hmac|nonce)"

_QUOTED_ASSIGNMENT = _rx(
    rf"(?P<name>(?<![A-Za-z0-9_]){_NAME})[\"']?\s*(?::=|=>|=|:)\s*"
    r"(?P<q>[\"'`])(?P<value>(?:(?!(?P=q))[^\n\\]|\\.){1,1024}?)(?P=q)",
    re.I,
)
_KEYISH_QUOTED = _rx(
    rf"(?P<name>(?<![A-Za-z0-9_]){_KEYISH_NAME})[\"']?\s*(?::=|=>|=|:)\s*"
    r"(?P<q>[\"'])(?P<value>[A-Za-z0-9+/=_\-.]{16,512})(?P=q)",
    re.I,
)
_UNQUOTED_LINE = _rx(
    # optional prefixes: a line number ("  12| "), a diff marker, `export`, a YAML list dash
    rf"^(?P<lead>[ \t]*(?:\d+[|:][ \t]?)?[+ ]?[ \t]*(?:export[ \t]+|-[ \t]+)?)(?P<name>{_NAME})"
    r"(?P<sp1>[ \t]*)(?P<sep>=|:)(?P<sp2>[ \t]*)(?P<value>[^\s'\"#]\S*?)[ \t]*(?:[ \t]#.*)?$",
    re.I | re.M,
)
_CLI_FLAG = _rx(
    r"(?P<flag>--(?:password|passwd|token|api-key|apikey|secret|client-secret)[= ])"
    r"(?P<value>[^\s'\"-][^\s'\"]*)",
    re.I,
)
_XML_ELEMENT = _rx(
    r"<(?P<tag>(?:password|passwd|secret|token|apikey|api_key|accesskey|secretkey))>"
    r"(?P<value>[^<]{1,512})</(?P=tag)>",
    re.I,
)

_TEMPLATE = re.compile(r"^\$\{?[A-Za-z_][\w.]*\}?$|\{\{.*\}\}|^<[^>]+>$|^%\(.*\)s$|^\$\(.*\)$")
_KEYWORDS = frozenset(
    {"none", "null", "nil", "true", "false", "yes", "no", "on", "off", "~", "|", ">", "|-", ">-"}
)
_TYPE_WORDS = frozenset(
    {
        "str",
        "string",
        "int",
        "integer",
        "bool",
        "boolean",
        "bytes",
        "float",
        "any",
        "object",
        "secretstr",
        "optional",
        "text",
        "varchar",
        "char",
        "password",
        "secret",
        "token",
    }
)
_IDENT_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")


def shannon_entropy(value: str) -> float:
    """Bits per character: random keys score ~4-6, words and identifiers ~2-3.5."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _kind_for(name: str) -> str:
    lowered = name.lower()
    for word, kind in (
        ("private", "private_key"),
        ("pass", "password"),
        ("pwd", "password"),
        ("token", "token"),
        ("api", "api_key"),
        ("access", "access_key"),
        ("dsn", "connection_string"),
        ("webhook", "webhook_url"),
        ("credential", "credentials"),
    ):
        if word in lowered:
            return kind
    return "secret"


def _is_reference(value: str) -> bool:
    """Values that point at a secret instead of being one (templates, env references)."""
    stripped = value.strip()
    return (
        not stripped
        or PLACEHOLDER_PREFIX in stripped
        or bool(_TEMPLATE.search(stripped))
        or stripped.lower() in _KEYWORDS
        or bool(_NUMBER.match(stripped))
    )


def _looks_random(value: str) -> bool:
    """Letters mixed with digits/symbols, long enough to be a generated secret."""
    has_alpha = any(c.isalpha() for c in value)
    has_other = any(c.isdigit() or not c.isalnum() for c in value)
    return len(value) >= 8 and has_alpha and has_other and shannon_entropy(value) >= 2.5


class Redactor:
    """Replaces secrets in text (and in chat messages) with placeholders.

    `known_secrets` are literal values (configured API keys, tokens) that are always
    replaced wherever they appear, whatever their shape.
    """

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        literals = sorted({s for s in known_secrets if s and len(s) >= 8}, key=len, reverse=True)
        self._known = re.compile("|".join(re.escape(s) for s in literals)) if literals else None

    def __call__(self, text: str) -> str:
        return self.redact(text)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by a placeholder."""
        return self.redact_with_report(text)[0]

    def redact_with_report(self, text: str) -> tuple[str, list[str]]:
        """The redacted text and the kinds of secrets found (for audit and logs)."""
        if not text:
            return text, []
        found: list[str] = []
        if self._known is not None:
            text, n = self._known.subn(placeholder("configured_secret"), text)
            found.extend(["configured_secret"] * n)
        for rule in _TOKEN_RULES:
            text = _sub_group(rule, text, found)
        text = _QUOTED_ASSIGNMENT.sub(_quoted_replacer(found, require_random=False), text)
        text = _KEYISH_QUOTED.sub(_quoted_replacer(found, require_random=True), text)
        text = _UNQUOTED_LINE.sub(_unquoted_replacer(found), text)
        text = _CLI_FLAG.sub(_simple_replacer("flag", found), text)
        text = _XML_ELEMENT.sub(_xml_replacer(found), text)
        return text, found

    def redact_value(self, value: Any) -> Any:
        """Redact every string inside a JSON-like structure (messages, tool arguments)."""
        return redact_structure(self.redact, value)

    def redact_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Chat messages with every text field redacted (content, parts, tool arguments)."""
        return [self.redact_value(m) for m in messages]


def redact_structure(redact: Callable[[str], str], value: Any) -> Any:
    """Apply `redact` to every string in a JSON-like value. A string that is itself JSON
    (tool-call arguments) is redacted field by field: escaping (`\\n`, `\\"`) would
    otherwise hide line- and quote-anchored secrets from the rules."""
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict | list):
                return json.dumps(redact_structure(redact, parsed), ensure_ascii=False)
        return redact(value)
    if isinstance(value, list):
        return [redact_structure(redact, v) for v in value]
    if isinstance(value, dict):
        return {k: redact_structure(redact, v) for k, v in value.items()}
    return value


def _sub_group(rule: _TokenRule, text: str, found: list[str]) -> str:
    group, kind = rule.group, rule.kind

    def repl(m: re.Match[str]) -> str:
        secret = m.group(group)
        if PLACEHOLDER_PREFIX in secret or (group and _is_reference(secret)):
            return m.group(0)
        if rule.random_only and not _looks_random(secret):
            return m.group(0)
        found.append(kind)
        whole = m.group(0)
        start = m.start(group) - m.start(0)
        end = m.end(group) - m.start(0)
        return whole[:start] + placeholder(kind) + whole[end:]

    return rule.pattern.sub(repl, text)


def _replace_value(m: re.Match[str], kind: str) -> str:
    whole = m.group(0)
    start = m.start("value") - m.start(0)
    end = m.end("value") - m.start(0)
    return whole[:start] + placeholder(kind) + whole[end:]


def _quoted_replacer(found: list[str], *, require_random: bool) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        name, value = m.group("name"), m.group("value")
        if _NOT_SECRET_NAME.search(name) or _is_reference(value):
            return m.group(0)
        if require_random and not (_looks_random(value) and shannon_entropy(value) >= 3.5):
            return m.group(0)
        kind = _kind_for(name) if not require_random else "secret"
        found.append(kind)
        return _replace_value(m, kind)

    return repl


def _unquoted_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        name, value = m.group("name"), m.group("value")
        if _NOT_SECRET_NAME.search(name) or _is_reference(value):
            return m.group(0)
        if any(c in value for c in "()[]{},;") or value.endswith((":", "\\")):
            return m.group(0)  # an expression, a call, a block opener: code, not config
        if m.group("sep") == ":":
            # YAML `password: value`; a bare type word is a Python annotation instead.
            if value.lower() in _TYPE_WORDS or re.fullmatch(r"[A-Z][A-Za-z]*", value):
                return m.group(0)
        elif (
            (m.group("sp1") or m.group("sp2"))
            and _IDENT_PATH.match(value)
            and not (_looks_random(value))
        ):
            return m.group(0)  # `password = user_password`: a variable, not a literal
        kind = _kind_for(name)
        found.append(kind)
        return _replace_value(m, kind)

    return repl


def _simple_replacer(kind_from: str, found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        value = m.group("value")
        if _is_reference(value):
            return m.group(0)
        kind = _kind_for(m.group(kind_from))
        found.append(kind)
        return _replace_value(m, kind)

    return repl


def _xml_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        if _is_reference(m.group("value")):
            return m.group(0)
        kind = _kind_for(m.group("tag"))
        found.append(kind)
        return _replace_value(m, kind)

    return repl


_DEFAULT = Redactor()


def redact(text: str) -> str:
    """Redact with the default rules (no configured literal secrets)."""
    return _DEFAULT.redact(text)
