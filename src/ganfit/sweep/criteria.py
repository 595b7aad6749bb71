"""Success criteria over a member's final metrics: `ks < 0.03`, `modes == 25 and hq >= 0.95`, `not diverged`.

A small language with its own tokenizer and recursive-descent parser, so nothing a sweep file says is
ever handed to Python's eval:

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)*      chained like Python: 0.1 < ks < 0.3
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | NAME | "true" | "false" | "abs" "(" expr ")" | "(" expr ")"

Names are the entries of a member in summary.json (`ks`, `w1`, `mean`, `modes`, `hq`, ...), plus
`learned` (ganfit's own criterion for the target), `diverged`, `stopped` and `ok` (the member's status).
A missing value (a metric that was not finite) is NaN, so every comparison with it is false.

A criterion is at most MAX_LENGTH characters and nests (parentheses, abs, not, unary minus) at most
MAX_DEPTH deep; chains (`a + b + c`, `x and y and z`) are evaluated in a loop, so that no criterion
the parser accepts can exhaust Python's stack when it is evaluated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..errors import GanfitError

STATUS_NAMES = ("learned", "diverged", "stopped", "ok")
MAX_LENGTH, MAX_DEPTH = 1_000, 32
KEYWORDS = ("and", "or", "not", "true", "false", "abs")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)))"
)
_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _div(a: float, b: float) -> float:
    return a / b if b else math.nan


_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _div}

Node = Callable[[Mapping[str, float]], float]


def tokenize(text: str) -> list[tuple[str, str]]:
    """[(kind, text)] with kind num, name or op; anything else is one clear error naming where."""
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise GanfitError(f"success criterion {text!r}: cannot read {text[pos:].strip()[:20]!r} (column {pos + 1})")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


@dataclass
class Criterion:
    """A parsed criterion: call it with a member's metrics to get True / False."""

    text: str
    names: frozenset[str]
    _root: Node

    def __call__(self, member: Mapping[str, object]) -> bool:
        try:
            return _truth(self._root(member_values(member)))
        except RecursionError:  # not within MAX_DEPTH's stack: only from a caller already very deep
            raise GanfitError(f"success criterion {self.text[:60]!r}: nested too deeply to evaluate here") from None


def _truth(x) -> bool:
    """A value as a condition: a missing (NaN) value is false."""
    return not (isinstance(x, float) and math.isnan(x)) and bool(x)


def value_of(values: Mapping[str, object], name: str) -> float:
    v = values.get(name)
    if v is None:
        return math.nan
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int past float's range
        return math.nan


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.names: set[str] = set()

    def fail(self, why: str) -> GanfitError:
        shown = self.text if len(self.text) <= 80 else self.text[:60] + "..."
        return GanfitError(f"success criterion {shown!r}: {why}")

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise self.fail("ends too early" + (f" (expected {want!r})" if want else ""))
        tok = self.tokens[self.i]
        if want is not None and tok[1] != want:
            raise self.fail(f"expected {want!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.tokens:
            raise self.fail("empty")
        node = self.or_()
        if self.i < len(self.tokens):
            raise self.fail(f"unexpected {self.tokens[self.i][1]!r}")
        return node

    def nested(self, sub) -> Node:
        """sub() one level deeper: past MAX_DEPTH, one clear error (not a RecursionError)."""
        if self.depth >= MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} deep")
        self.depth += 1
        node = sub()
        self.depth -= 1
        return node

    def _chain(self, sub, ops: Iterable[str], combine) -> Node:
        """sub (op sub)*, folded left to right by combine(op, left value, right node, values) in a loop."""
        first, rest = sub(), []
        while self.peek() in ops:
            op = self.take()[1]
            rest.append((op, sub()))
        if not rest:
            return first

        def node(v):
            x = first(v)
            for op, right in rest:
                x = combine(op, x, right, v)
            return x

        return node

    def or_(self) -> Node:
        return self._chain(self.and_, ("or",), lambda _, x, b, v: _truth(x) or _truth(b(v)))

    def and_(self) -> Node:
        return self._chain(self.not_, ("and",), lambda _, x, b, v: _truth(x) and _truth(b(v)))

    def not_(self) -> Node:
        if self.peek() == "not":
            self.take()
            inner = self.nested(self.not_)
            return lambda v: not _truth(inner(v))
        return self.compare()

    def compare(self) -> Node:
        first = self.sum_()
        pairs = []
        while self.peek() in _COMPARE:
            pairs.append((_COMPARE[self.take()[1]], self.sum_()))
        if not pairs:
            return first

        def node(v):
            left = first(v)
            for op, right_node in pairs:
                right = right_node(v)
                if math.isnan(left) or math.isnan(right) or not op(left, right):
                    return False
                left = right
            return True

        return node

    def sum_(self) -> Node:
        return self._chain(self.product, ("+", "-"), lambda op, x, b, v: _ARITH[op](x, b(v)))

    def product(self) -> Node:
        return self._chain(self.unary, ("*", "/"), lambda op, x, b, v: _ARITH[op](x, b(v)))

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            inner = self.nested(self.unary)
            return lambda v: -inner(v)
        return self.atom()

    def atom(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            x = float(text)
            return lambda v: x
        if text == "(":
            node = self.nested(self.or_)
            self.take(")")
            return node
        if text in ("true", "false"):
            b = text == "true"
            return lambda v: b
        if text == "abs":
            self.take("(")
            inner = self.nested(self.or_)
            self.take(")")
            return lambda v: abs(inner(v))
        if kind == "name" and text not in KEYWORDS:
            self.names.add(text)
            return lambda v: value_of(v, text)
        raise self.fail(f"unexpected {text!r}")


def parse(text: str, known: Iterable[str] | None = None) -> Criterion:
    """Parse a criterion; with `known`, a name outside it (and the status names) is an error."""
    if not isinstance(text, str):
        raise GanfitError(f"success criterion must be a string, got {text!r}")
    if len(text) > MAX_LENGTH:
        raise GanfitError(f"success criterion of {len(text):,} characters: at most {MAX_LENGTH:,}")
    p = _Parser(text)
    try:
        root = p.parse()
    except RecursionError:  # as in Criterion.__call__
        raise p.fail("nested too deeply to read here") from None
    if known is not None:
        allowed = set(known) | set(STATUS_NAMES)
        unknown = sorted(p.names - allowed)
        if unknown:
            raise GanfitError(
                f"success criterion {text!r}: unknown metric {unknown[0]!r} (known: {', '.join(sorted(allowed))})"
            )
    return Criterion(text, frozenset(p.names), root)


def member_values(member: Mapping[str, object]) -> dict[str, object]:
    """A summary.json member entry with the status names the language offers."""
    status = member.get("status")
    return dict(member) | {"diverged": status == "diverged", "stopped": status == "stopped", "ok": status == "ok"}


def succeeded(criterion: Criterion, member: Mapping[str, object]) -> bool:
    """A member succeeds when it did not diverge and meets the criterion."""
    return member.get("status") != "diverged" and criterion(member)
