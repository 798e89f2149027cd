"""Every check of a token, secret, signature or hash is constant-time (hmac.compare_digest) or a
hash-then-lookup (the hash is the key the store finds, DynamoDB's condition compares it): an AST scan
of all shipped Python (layers, functions, the local stack, the terminal agent) fails on `==` / `!=`
with a secret-ish name on either side, and lists where compare_digest does the work."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("layers/core/quantlink", "functions", "infra/quantlink_local", "terminal/quantlink_terminal")
SECRETISH = re.compile(
    r"token|secret|hash|hmac|signature|passphrase|password|fingerprint|digest|receipt|nonce|credential"
    r"|api_?key|(^|_)(mac|tag)($|_)",
    re.IGNORECASE,
)
# Equality that is not a secret check, with why. Keyed by (file, the comparison's source).
NOT_SECRETS = {
    ("infra/quantlink_local/stack.py", "last.get('templateSha256') != self.template_digest()"):
        "whether template.yaml changed since the last local run: a cache key, nothing secret",
    ("infra/quantlink_local/changes.py", "was.get(id(m)) != (m.receipt_handle, m.visible_at)"):
        "the local moto server's journal telling which SQS messages a call changed: no caller's input",
}  # fmt: skip
# Where the constant-time comparisons live: the checks every secret goes through.
CONSTANT_TIME = {
    "layers/core/quantlink/ids.py": "secret_matches: webhook, terminal and invitation tokens (hash, then compare)",
    "layers/core/quantlink/relay.py": "the device fingerprint's hash against the bound one",
    "layers/core/quantlink/sealing.py": "the sealed secret's HMAC tag before decrypting",
    "layers/core/quantlink/sources/quantdinger.py": "QuantDinger's HMAC signature of the webhook body",
}


def shipped_files() -> Iterator[Path]:
    for folder in SHIPPED:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _names(node: ast.AST) -> Iterator[str]:
    for part in ast.walk(node):
        if isinstance(part, ast.Name):
            yield part.id
        elif isinstance(part, ast.Attribute):
            yield part.attr
        elif isinstance(part, ast.Call):  # item.get("tokenHash"), headers["x-signature"]
            yield from (a.value for a in part.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
        elif (
            isinstance(part, ast.Subscript)
            and isinstance(part.slice, ast.Constant)
            and isinstance(part.slice.value, str)
        ):
            yield part.slice.value


def _public(node: ast.AST) -> bool:
    """A literal or a named constant (UPPER_CASE, an enum member): what everyone may know, so comparing
    a secret to it leaks nothing (e.g. "is this the placeholder token?")."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id[:1].isupper() and node.attr.isupper()
    return False


def secret_equalities(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare) or not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            continue
        operands = [node.left, *node.comparators]
        if any(_public(operand) for operand in operands):
            continue
        if any(SECRETISH.search(name) for operand in operands for name in _names(operand)):
            found.append(ast.unparse(node))
    return found


def compare_digest_calls(path: Path) -> int:
    return sum(
        1
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "compare_digest"
    )


def test_no_secret_is_compared_with_equality() -> None:
    offending = []
    allowed_seen = set()
    for path in shipped_files():
        relative = path.relative_to(ROOT).as_posix()
        for comparison in secret_equalities(path):
            if (relative, comparison) in NOT_SECRETS:
                allowed_seen.add((relative, comparison))
            else:
                offending.append(f"{relative}: {comparison}")
    assert offending == [], "use hmac.compare_digest (or compare hashes in the store's condition):\n" + "\n".join(
        offending
    )
    assert allowed_seen == set(NOT_SECRETS), "an exception above no longer exists: remove it"


def test_the_scan_catches_what_it_is_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def check(token, stored, item, headers):\n"
        "    a = hash_secret(token) == stored.token_hash\n"
        "    b = item.get('authTokenHash') != headers['x-signature']\n"
        "    c = token == TOKEN_PLACEHOLDER\n"  # a public constant: fine
        "    d = kind == Kind.QUEUE\n"  # an enum member: fine
        "    e = name == other_name\n"  # nothing secret: fine
        "    return a, b, c, d, e\n",
        encoding="utf-8",
    )
    assert secret_equalities(sample) == [
        "hash_secret(token) == stored.token_hash",
        "item.get('authTokenHash') != headers['x-signature']",
    ]


def test_the_secret_checks_are_constant_time() -> None:
    counted = {relative: compare_digest_calls(ROOT / relative) for relative in CONSTANT_TIME}
    assert all(counted.values()), {k: v for k, v in counted.items() if not v}
    everywhere = {path.relative_to(ROOT).as_posix(): n for path in shipped_files() if (n := compare_digest_calls(path))}
    assert set(everywhere) == set(CONSTANT_TIME), "a new constant-time check: say in CONSTANT_TIME what it guards"
