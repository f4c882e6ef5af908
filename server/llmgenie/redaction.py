"""Secret redaction: every text bound for a model, an embedding endpoint or a team server
passes through `Redactor.redact` first (`Redactor.redact_file` when the file is known).

Secrets (API keys, private keys, tokens, passwords, credentials in connection strings) are
replaced by stable placeholders such as ``«REDACTED:aws_access_key»``. Redaction is
idempotent: placeholders never match a rule, so redacting twice is harmless. Credential
files (`.env*`, `.netrc`, `.npmrc`, `.pgpass`, `*.pem`, `*.key`, kubeconfig, docker config)
are withheld whole by `redact_file`.

The passes run in order, most specific first: a PEM block is removed whole; keys split over
adjacent string literals are joined and checked; provider tokens with a recognisable shape
go next; then "secret-ish name = value" assignments and annotated ones (`name: str = "…"`),
decided in Python on the short captured name and value, pgpass/netrc lines,
`getenv("X", "default")` defaults, and finally long high-entropy tokens. Unquoted values
are only taken from config-like lines, so ordinary code (``password =
request.form["password"]``, ``max_tokens=1024``) is not mangled.

Linear time: every pattern starts at a bounded set of places (the start of a run or a line,
a look-behind keeps it from restarting inside a run) and uses possessive quantifiers where
its classes overlap, so no input makes the regex engine backtrack more than a constant
amount per character.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

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


def _tok(prefix: str, body: str, flags: int = 0) -> re.Pattern[str]:
    """A token that starts with fixed-width `prefix`, not preceded by a token character.
    The look-behind follows the prefix so the engine can scan for the literal prefix fast."""
    return re.compile(rf"{prefix}(?<![\w-]{prefix}){body}", flags)


# Shaped tokens (known prefixes). Bodies are possessive so a failed match cannot backtrack.
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
        _rx(
            r"(?<![\w+.-])[a-zA-Z][a-zA-Z0-9+.-]{0,32}+://"
            r"[^\s:/@'\"<>]{0,256}+:([^\s@/'\"<>]++)@"
        ),
        group=1,
    ),
    _TokenRule("anthropic_api_key", _tok("sk-ant-", r"[A-Za-z0-9_-]{20,}+")),
    _TokenRule(
        "openai_api_key",
        _tok("sk-", r"(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{0,200}?T3BlbkFJ[A-Za-z0-9_-]++"),
    ),
    _TokenRule("openai_api_key", _tok("sk-", r"(?:proj-|svcacct-)[A-Za-z0-9_-]{20,}+")),
    _TokenRule("openai_api_key", _tok("sk-", r"[A-Za-z0-9]{32,}+(?![\w-])")),
    _TokenRule("api_key", _tok("sk-", r"[A-Za-z0-9_-]{20,}+"), random_only=True),
    _TokenRule("stripe_key", _tok("(?:sk|rk|pk)_(?:live|test)_", r"[A-Za-z0-9]{16,}+")),
    _TokenRule("aws_access_key", _tok("(?:AKIA|ASIA|ABIA|ACCA)", r"[A-Z0-9]{16}(?![A-Z0-9])")),
    _TokenRule("github_token", _tok("gh[pousr]_", r"[A-Za-z0-9]{36,}+")),
    _TokenRule("github_token", _tok("github_pat_", r"[A-Za-z0-9_]{22,}+")),
    _TokenRule("gitlab_token", _tok("glpat-", r"[A-Za-z0-9_-]{20,}+")),
    _TokenRule("slack_token", _tok("xox[abposre]-", r"[A-Za-z0-9-]{10,}+")),
    _TokenRule("slack_token", _tok("xapp-", r"[0-9]-[A-Za-z0-9-]{10,}+")),
    _TokenRule(
        "slack_webhook",
        _rx(r"https://hooks\.slack\.com/services/T[A-Z0-9]++/B[A-Z0-9]++/[A-Za-z0-9]++"),
    ),
    _TokenRule("google_api_key", _tok("AIza", r"[0-9A-Za-z_-]{35,40}+")),
    _TokenRule("npm_token", _tok("npm_", r"[A-Za-z0-9]{36}")),
    _TokenRule("pypi_token", _tok("pypi-", r"AgEIcHlwaS5vcmc[A-Za-z0-9_-]{40,}+")),
    _TokenRule("huggingface_token", _tok("hf_", r"[A-Za-z0-9]{34,}+")),
    _TokenRule("sendgrid_key", _tok(r"SG\.", r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")),
    _TokenRule("digitalocean_token", _tok("do[por]_v1_", r"[a-f0-9]{64}")),
    _TokenRule("shopify_token", _tok("shp(?:at|ca|pa|ss)_", r"[a-fA-F0-9]{32}")),
    _TokenRule(
        "jwt",
        _tok("eyJ", r"[A-Za-z0-9_-]{8,}+\.eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+"),
    ),
    _TokenRule(
        "bearer_token",
        _rx(
            r"(?i)(?:bearer|token|basic)(?<![\w-]bearer)(?<![\w-]token)(?<![\w-]basic)"
            r"[ \t]++([A-Za-z0-9._~+/-]{16,}+=*+)"
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
_SECRET_NAME = re.compile(rf"(?i)(?:{_SECRET_WORDS})")
# Secret-ish names that are usually not secrets (counts, types, references, form fields).
_NOT_SECRET_NAME = re.compile(
    r"(?i)tokeni[sz]|tokens$|_tokens|max_?token|num_?token|token_?count|token_?type|token_?url"
    r"|token_?endpoint|token_?limit|secret_?name|secretname|secret_?ref|secretkeyref|password_?field"
    r"|password_?input|password_?hash|password_?reset|password_?length|password_?policy"
    r"|_?pwd_?context|secrets?_?dir|secrets?_?path|secret_?file|password_?file|token_?file"
)
# Names that may hold a key: redacted only when the value looks random (high entropy).
_KEYISH_NAME = re.compile(r"(?i)(?:key|salt|seed|signature|sig|hmac|nonce|auth)$")

_MAX_LITERAL = 1024
_LIT = (
    rf"\"(?:[^\"\\\n]|\\.){{0,{_MAX_LITERAL}}}+\""
    rf"|'(?:[^'\\\n]|\\.){{0,{_MAX_LITERAL}}}+'"
    rf"|`(?:[^`\\\n]|\\.){{0,{_MAX_LITERAL}}}+`"
)
# One literal or several adjacent ones (`"sk-" "abc"`, `'a' + 'b'`), joined before judging.
_LIT_SEQ = rf"(?:{_LIT})(?:\s*+\+?\s*+(?:{_LIT})){{0,31}}+"
_LIT_PIECE = re.compile(_LIT)
_MULTI_LITERAL = _rx(rf"(?:{_LIT})(?:\s*+\+?\s*+(?:{_LIT})){{1,31}}+")

# `name <sep> value`: the name is a whole run (look-behind and look-ahead), taken at most once.
_ASSIGNMENT = _rx(
    r"(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z0-9_.\-]{1,256}+)(?![A-Za-z0-9_.\-])"
    r"(?P<nq>[\"']?)(?P<sp1>[ \t]*+)(?P<sep>:=|=>|=|:)(?P<sp2>[ \t]*+)"
    rf"(?:\(\s*+(?P<plit>{_LIT_SEQ})|(?P<lit>{_LIT_SEQ})"
    r"|(?P<uq>[^\s'\"`#,;(){}\[\]][^\s,;(){}\[\]]*+))?"
)
# `name: Type = "value"`: an annotated assignment or parameter default (Python, TypeScript,
# Kotlin, Rust `let name: &str = ...`); the annotation is bounded and holds no `=` or quote.
_ANNOTATED = _rx(
    r"(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z0-9_.\-]{1,256}+)(?![A-Za-z0-9_.\-])"
    r"[ \t]*+:[ \t]*+[^=\n\"'`;{}:]{1,128}+=(?![=>])[ \t]*+"
    rf"(?P<lit>{_LIT_SEQ})"
)
# What may precede a config-style `name=value` on its line: a line number ("  12| "), a
# diff marker, `export`, a YAML list dash, an .npmrc registry scope (`//host/:`).
_LEAD = re.compile(r"[ \t]*+(?:\d+[|:][ \t]?)?[+ -]?[ \t]*+(?:export[ \t]++|-[ \t]++|//\S*:)?")
_LEAD_MAX = 200
_REST_MAX = 256

# `os.environ.get("DB_PASSWORD", "default")`, `getenv(...)`, `process.env.X || "..."`.
_ENV_DEFAULT = _rx(
    r"(?:(?:getenv|environ\.get|environ\.setdefault|env\.get|Getenv)\(\s*+"
    r"[\"'](?P<var>[A-Za-z0-9_.\-]{1,128}+)[\"']\s*+,\s*+(?:default\s*+=\s*+)?"
    r"|process\.env\.(?P<jsvar>[A-Za-z0-9_]{1,128}+)\s*+(?:\|\||\?\?)\s*+)"
    rf"(?P<lit>{_LIT_SEQ})"
)
# Shell / compose `${DB_PASSWORD:-default}`.
_SHELL_DEFAULT = _rx(r"\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]{0,127}+):?-(?P<value>[^}\s]{1,512}+)\}")
# ~/.pgpass: host:port:database:user:password
_PGPASS_LINE = _rx(
    r"^[ \t]*+(?:\d++\|[ \t]?)?[^:\s#|]++:(?:\d++|\*):[^:\s]++:[^:\s]++:(?P<value>\S++)[ \t]*+$",
    re.M,
)
# ~/.netrc: `machine h login u password p` (one line or one token per line).
_NETRC = _rx(
    r"^[ \t]*+(?:\d++\|[ \t]?)?(?:(?:machine|default)\b[^\n]{0,512}?[ \t])?"
    r"(?:password|passwd)[ \t]++(?P<value>\S++)[ \t]*+$",
    re.M,
)
_CLI_FLAG = _rx(
    r"(?P<flag>--(?:password|passwd|token|api-key|apikey|secret|client-secret)[= ])"
    r"(?P<value>[^\s'\"-][^\s'\"]*+)",
    re.I,
)
_XML_ELEMENT = _rx(
    r"<(?P<tag>(?:password|passwd|secret|token|apikey|api_key|accesskey|secretkey))>"
    r"(?P<value>[^<]{1,512}+)</(?P=tag)>",
    re.I,
)
# A long run of base64/base62 characters: a candidate for the entropy detector.
_LONG_TOKEN = _rx(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{32,}+=*+")
_SRI_PREFIX = re.compile(r"sha(?:1|256|384|512)-")

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
_CAP_IDENT = re.compile(r"[A-Z][A-Za-z0-9_]*")
_CAPITALISED_WORD = re.compile(r"[A-Z][a-z0-9]+")  # `password = Winterfell` in an INI file
_TYPE_SUFFIX = re.compile(r"(?:Str|Type|Field|Model|Bytes|Value|Input|Hash)$")
_IDENT_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")

# Files whose whole content is a credential store: withheld, not line-by-line redacted.
SECRET_FILE_NAMES = frozenset(
    {
        ".netrc",
        "_netrc",
        ".npmrc",
        ".pypirc",
        ".pgpass",
        ".git-credentials",
        "kubeconfig",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
    }
)
SECRET_FILE_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kubeconfig")
SECRET_FILE_PATHS = (".docker/config.json", ".kube/config", ".aws/credentials")

_CODE_SUFFIXES = frozenset(
    [
        ".py",
        ".pyi",
        ".js",
        ".jsx",
        ".ts",
        ".tsx",
        ".mjs",
        ".cjs",
        ".go",
        ".rs",
        ".java",
        ".kt",
        ".rb",
        ".php",
        ".cs",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".hpp",
        ".swift",
        ".scala",
        ".lua",
        ".dart",
    ]
)
_CONFIG_SUFFIXES = frozenset(
    [
        ".yml",
        ".yaml",
        ".ini",
        ".cfg",
        ".conf",
        ".properties",
        ".toml",
        ".tfvars",
        ".env",
        ".envrc",
        ".service",
    ]
)

Mode = Literal["code", "config", "text"]


def is_secret_file(path: str) -> bool:
    """Whether `path` (workspace-relative or absolute) is a credentials file withheld whole."""
    posix = path.replace("\\", "/")
    name = PurePosixPath(posix).name.lower()
    if name.startswith(".env") or name.endswith(".env"):
        return True
    if name in SECRET_FILE_NAMES or name.endswith(SECRET_FILE_SUFFIXES):
        return True
    lowered = "/" + posix.lower().lstrip("/")
    return any(lowered.endswith("/" + tail) for tail in SECRET_FILE_PATHS)


def withheld(path: str) -> str:
    """What a model sees instead of a credentials file's content."""
    name = PurePosixPath(path.replace("\\", "/")).name
    return f"{placeholder('secret_file')} ({name} is a credentials file; its content is withheld)"


def _mode_for(path: str) -> Mode:
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    suffix = PurePosixPath(name).suffix
    if suffix in _CODE_SUFFIXES:
        return "code"
    if suffix in _CONFIG_SUFFIXES or "compose" in name or name == "dockerfile":
        return "config"
    return "text"


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
    if len(stripped) > _MAX_LITERAL:
        return False
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


def _looks_like_key(token: str) -> bool:
    """A long run of mixed-case letters and digits with high entropy: a generated key."""
    body = token.rstrip("=")
    if len(body) < 32 or _SRI_PREFIX.match(body):
        return False
    if not (
        any(c.isupper() for c in body)
        and any(c.islower() for c in body)
        and any(c.isdigit() for c in body)
    ):
        return False
    separators = sum(body.count(c) for c in "/_-")
    return separators * 8 <= len(body) and shannon_entropy(body) >= 4.3


def _name_class(name: str) -> Literal["secret", "keyish"] | None:
    if len(name) > 256 or _NOT_SECRET_NAME.search(name):
        return None
    if _SECRET_NAME.search(name):
        return "secret"
    if _KEYISH_NAME.search(name):
        return "keyish"
    return None


def _literal_value(seq: str) -> str:
    """The content of one or more adjacent literals, joined as the language would."""
    return "".join(m.group(0)[1:-1] for m in _LIT_PIECE.finditer(seq))


def _token_kind(text: str) -> str | None:
    """The kind of the first shaped token found in `text` (a short, joined literal)."""
    for rule in _TOKEN_RULES:
        m = rule.pattern.search(text)
        if m is None:
            continue
        secret = m.group(rule.group)
        if rule.random_only and not _looks_random(secret):
            continue
        return rule.kind
    return None


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

    def redact_file(self, path: str, text: str) -> str:
        """The content of workspace file `path` as it may leave the machine: a credentials
        file is withheld whole; otherwise redacted knowing whether it is code or config."""
        if is_secret_file(path):
            return withheld(path)
        return self.redact_with_report(text, mode=_mode_for(path))[0]

    def redact_with_report(self, text: str, *, mode: Mode = "text") -> tuple[str, list[str]]:
        """The redacted text and the kinds of secrets found (for audit and logs)."""
        if not text:
            return text, []
        found: list[str] = []
        if self._known is not None:
            text, n = self._known.subn(placeholder("configured_secret"), text)
            found.extend(["configured_secret"] * n)
        text = _TOKEN_RULES[0].pattern.sub(_token_replacer(_TOKEN_RULES[0], found), text)
        text = _MULTI_LITERAL.sub(_split_literal_replacer(found), text)
        for rule in _TOKEN_RULES[1:]:
            text = rule.pattern.sub(_token_replacer(rule, found), text)
        text = _ENV_DEFAULT.sub(_env_default_replacer(found), text)
        text = _SHELL_DEFAULT.sub(_shell_default_replacer(found), text)
        text = _ASSIGNMENT.sub(_assignment_replacer(found, mode), text)
        text = _ANNOTATED.sub(_annotated_replacer(found), text)
        text = _PGPASS_LINE.sub(_value_replacer("password", found), text)
        text = _NETRC.sub(_value_replacer("password", found), text)
        text = _CLI_FLAG.sub(_flag_replacer(found), text)
        text = _XML_ELEMENT.sub(_xml_replacer(found), text)
        text = _LONG_TOKEN.sub(_entropy_replacer(found), text)
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
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict | list):
                return json.dumps(redact_structure(redact, parsed), ensure_ascii=False)
        return redact(value)
    if isinstance(value, list):
        return [redact_structure(redact, v) for v in value]
    if isinstance(value, dict):
        return {k: redact_structure(redact, v) for k, v in value.items()}
    return value


def _splice(m: re.Match[str], group: int | str, replacement: str) -> str:
    """The match with group `group` replaced."""
    whole = m.group(0)
    start = m.start(group) - m.start(0)
    end = m.end(group) - m.start(0)
    return whole[:start] + replacement + whole[end:]


def _token_replacer(rule: _TokenRule, found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        secret = m.group(rule.group)
        if PLACEHOLDER_PREFIX in secret or (rule.group and _is_reference(secret)):
            return m.group(0)
        if rule.random_only and not _looks_random(secret):
            return m.group(0)
        found.append(rule.kind)
        return _splice(m, rule.group, placeholder(rule.kind))

    return repl


def _split_literal_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    """Adjacent literals whose joined text is a shaped token become one placeholder."""

    def repl(m: re.Match[str]) -> str:
        kind = _token_kind(_literal_value(m.group(0)))
        if kind is None:
            return m.group(0)
        found.append(kind)
        quote = m.group(0)[0]
        return f"{quote}{placeholder(kind)}{quote}"

    return repl


def _secret_literal(name: str, seq: str) -> str | None:
    """The kind to redact literal(s) `seq` assigned to `name` as, or None to keep them."""
    cls = _name_class(name)
    if cls is None:
        return None
    value = _literal_value(seq)
    if _is_reference(value):
        return None
    if cls == "keyish":
        if not (len(value) >= 16 and _looks_random(value) and shannon_entropy(value) >= 3.5):
            return None
        return "secret"
    return _kind_for(name)


def _quoted(seq: str, kind: str) -> str:
    return f"{seq[0]}{placeholder(kind)}{seq[0]}"


def _assignment_replacer(found: list[str], mode: Mode) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        name = m.group("name")
        for group in ("plit", "lit"):
            seq = m.group(group)
            if seq is not None:
                kind = _secret_literal(name, seq)
                if kind is None:
                    return m.group(0)
                found.append(kind)
                return _splice(m, group, _quoted(seq, kind))
        value = m.group("uq")
        if value is None or not _config_line(m):
            return m.group(0)
        kind = _unquoted_kind(m, name, value, mode)
        if kind is None:
            return m.group(0)
        found.append(kind)
        return _splice(m, "uq", placeholder(kind))

    return repl


def _annotated_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        seq = m.group("lit")
        kind = _secret_literal(m.group("name"), seq)
        if kind is None:
            return m.group(0)
        found.append(kind)
        return _splice(m, "lit", _quoted(seq, kind))

    return repl


def _config_line(m: re.Match[str]) -> bool:
    """Whether the match is a whole config-style line: only a lead before it, only
    whitespace or a comment after its value (both looked at within a bounded window)."""
    text, start, end = m.string, m.start(), m.end()
    window_start = max(0, start - _LEAD_MAX)
    line_start = text.rfind("\n", window_start, start) + 1
    if line_start == 0 and window_start > 0:
        return False
    if _LEAD.fullmatch(text, line_start, start) is None:
        return False
    rest = text[end : end + _REST_MAX]
    newline = rest.find("\n")
    if newline < 0 and end + _REST_MAX < len(text):
        return False
    rest = rest if newline < 0 else rest[:newline]
    return not rest.strip() or rest.lstrip(" \t").startswith("#")


def _unquoted_kind(m: re.Match[str], name: str, value: str, mode: Mode) -> str | None:
    cls = _name_class(name)
    if cls is None or _is_reference(value):
        return None
    if any(c in value for c in "()[]{},;") or value.endswith((":", "\\")):
        return None  # an expression, a call, a block opener: code, not config
    if cls == "keyish":
        random = len(value) >= 16 and _looks_random(value) and shannon_entropy(value) >= 3.5
        return "secret" if random else None
    if m.group("sep") == ":":
        # YAML `password: value`; a type word is a Python annotation instead.
        if value.lower() in _TYPE_WORDS:
            return None
        if _CAP_IDENT.fullmatch(value) and (
            mode == "code" or _SECRET_NAME.search(value) or _TYPE_SUFFIX.search(value)
        ):
            return None
    elif (
        mode != "config"
        and (m.group("sp1") or m.group("sp2"))
        and _IDENT_PATH.match(value)
        and not _looks_random(value)
        and not (mode == "text" and _CAPITALISED_WORD.fullmatch(value))
    ):
        return None  # `password = user_password`: a variable, not a literal
    return _kind_for(name)


def _env_default_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        kind = _secret_literal(m.group("var") or m.group("jsvar"), m.group("lit"))
        if kind is None:
            return m.group(0)
        found.append(kind)
        return _splice(m, "lit", _quoted(m.group("lit"), kind))

    return repl


def _shell_default_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        value = m.group("value")
        if _name_class(m.group("var")) is None or _is_reference(value):
            return m.group(0)
        kind = _kind_for(m.group("var"))
        found.append(kind)
        return _splice(m, "value", placeholder(kind))

    return repl


def _value_replacer(kind: str, found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        if _is_reference(m.group("value")):
            return m.group(0)
        found.append(kind)
        return _splice(m, "value", placeholder(kind))

    return repl


def _flag_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        if _is_reference(m.group("value")):
            return m.group(0)
        kind = _kind_for(m.group("flag"))
        found.append(kind)
        return _splice(m, "value", placeholder(kind))

    return repl


def _xml_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        if _is_reference(m.group("value")):
            return m.group(0)
        kind = _kind_for(m.group("tag"))
        found.append(kind)
        return _splice(m, "value", placeholder(kind))

    return repl


def _entropy_replacer(found: list[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        if not _looks_like_key(m.group(0)):
            return m.group(0)
        found.append("high_entropy")
        return placeholder("high_entropy")

    return repl


def redact_path_text(redact: Callable[[str], str], path: str, text: str) -> str:
    """Text of workspace file `path` through `redact`: a credentials file is withheld whole,
    and a `Redactor` is told whether the file is code or config."""
    if is_secret_file(path):
        return withheld(path)
    if isinstance(redact, Redactor):
        return redact.redact_file(path, text)
    return redact(text)


_DEFAULT = Redactor()


def redact(text: str) -> str:
    """Redact with the default rules (no configured literal secrets)."""
    return _DEFAULT.redact(text)


def redact_file(path: str, text: str) -> str:
    """`Redactor.redact_file` with the default rules."""
    return _DEFAULT.redact_file(path, text)
