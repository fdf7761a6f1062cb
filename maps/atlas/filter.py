"""Filter conditions of atlas entries: a small expression language over a coverage's attributes, checked by walking its syntax tree and never evaluated as Python."""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from cqgis.errors import one_line
from cqgis.maps.errors import MapOptionError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Deepest nesting of a filter's conditions (``not not ...``, parentheses):
#: far beyond any real condition, and short of Python's recursion limit.
MAX_FILTER_DEPTH = 50

#: Longest filter and filename template accepted, in characters: a real one is a line.
MAX_FILTER_CHARS = 2000

_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)

_FILTER_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
    ast.Compare, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, *_COMPARISONS,
)

_OPERATORS = MappingProxyType({
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
})


@dataclass(frozen=True)
class Filter:
    """A condition over a coverage's attributes, parsed without ever evaluating Python.

    Parameters
    ----------
    text : str
        The expression, e.g. ``region == '主城都市区' and area_km2 > 1000``.
    where : str
        Where it comes from (``atlas.yaml line 7``), prefixed to errors.
    """

    text: str
    where: str
    tree: ast.Expression = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.text) > MAX_FILTER_CHARS:
            msg = f"{self.where}: filter is {len(self.text):,} characters long; at most {MAX_FILTER_CHARS:,}"
            raise MapOptionError(msg)
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as exc:
            msg = f"{self.where}: filter {self.text!r} is not a valid expression ({exc.msg})"
            raise MapOptionError(msg) from exc
        except (RecursionError, MemoryError) as exc:
            msg = f"{self.where}: filter is nested too deeply (at most {MAX_FILTER_DEPTH} levels)"
            raise MapOptionError(msg) from exc
        if _depth(tree) > MAX_FILTER_DEPTH:
            msg = f"{self.where}: filter is nested too deeply (at most {MAX_FILTER_DEPTH} levels)"
            raise MapOptionError(msg)
        # Lists are only the right side of 'in'; a minus sign only negates a number.
        members = {
            id(right)
            for node in ast.walk(tree) if isinstance(node, ast.Compare)
            for op, right in zip(node.ops, node.comparators) if isinstance(op, (ast.In, ast.NotIn))
        }
        for node in ast.walk(tree):
            self._check_node(node, members)
        object.__setattr__(self, "tree", tree)

    def _check_node(self, node: ast.AST, members: set[int]) -> None:
        allowed = isinstance(node, _FILTER_NODES)
        if isinstance(node, ast.Constant):
            allowed = isinstance(node.value, (str, int, float, bool))
        elif isinstance(node, (ast.List, ast.Tuple)):
            allowed = id(node) in members and all(_literal(element) for element in node.elts)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            allowed = _literal(node) and not isinstance(node.operand.value, (str, bool))
        elif isinstance(node, ast.Compare):
            allowed = all(
                isinstance(right, (ast.List, ast.Tuple))
                for op, right in zip(node.ops, node.comparators)
                if isinstance(op, (ast.In, ast.NotIn))
            )
        if not allowed:
            shown = ast.get_source_segment(self.text.strip(), node) or type(node).__name__
            msg = (
                f"{self.where}: filter {self.text!r}: {shown!r} is not allowed; use column names, "
                f"literals, comparisons, 'in [...]', and, or, not"
            )
            raise MapOptionError(msg)

    def columns(self) -> set[str]:
        """Return the column names the filter reads.

        Returns
        -------
        set of str
            Every name in the expression.
        """
        return {node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name)}

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Return which rows of ``frame`` satisfy the condition; a comparison with a missing value is false.

        Parameters
        ----------
        frame : pandas.DataFrame
            A coverage's attribute table (see :func:`coverage`).

        Returns
        -------
        numpy.ndarray
            One boolean per row.

        Raises
        ------
        MapOptionError
            Unknown column, a value of the wrong type, or an expression
            that is not a condition.
        """
        missing = sorted(self.columns() - set(frame.columns))
        if missing:
            msg = (
                f"{self.where}: filter {self.text!r} names unknown column {missing[0]!r}; "
                f"columns: {', '.join(map(str, frame.columns))}"
            )
            raise MapOptionError(msg)
        try:
            return self._as_mask(self._value(self.tree.body, frame), len(frame))
        except (TypeError, ValueError) as exc:
            msg = f"{self.where}: filter {self.text!r} cannot be evaluated: {one_line(exc)}"
            raise MapOptionError(msg) from exc

    def _value(self, node: ast.AST, frame: pd.DataFrame):
        import numpy as np

        n = len(frame)
        if isinstance(node, ast.BoolOp):
            masks = [self._as_mask(self._value(value, frame), n) for value in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return combine.reduce(masks)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self._as_mask(self._value(node.operand, frame), n)
        if isinstance(node, ast.Compare):
            return self._compare(node, frame)
        if isinstance(node, ast.Name):
            return frame[node.id]
        return _literal_value(node)

    def _compare(self, node: ast.Compare, frame: pd.DataFrame):
        import numpy as np

        n = len(frame)
        result = np.ones(n, dtype=bool)
        left = self._value(node.left, frame)
        for op, right_node in zip(node.ops, node.comparators):
            right = self._value(right_node, frame)
            self._check_kinds(left, right)
            if isinstance(op, (ast.In, ast.NotIn)):
                found = self._members(left, right, n)
                outcome = found if isinstance(op, ast.In) else ~found
            else:
                outcome = self._as_mask(_OPERATORS[type(op)](left, right), n)
            result &= outcome
            left = right
        return result

    def _check_kinds(self, left, right) -> None:
        """Refuse a column of text compared with a number, or a column of numbers with text."""
        import pandas as pd

        for column, value in ((left, right), (right, left)):
            if not isinstance(column, pd.Series) or isinstance(value, (pd.Series, list)):
                continue
            numbers = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
            present = column.dropna()
            text = not numbers and len(present) > 0 and present.map(lambda cell: isinstance(cell, str)).all()
            if text and isinstance(value, (int, float)) and not isinstance(value, bool):
                msg = (
                    f"{self.where}: filter {self.text!r}: column {column.name!r} holds text, not numbers; "
                    f"compare it with text in quotes ('{value}')"
                )
                raise MapOptionError(msg)
            if numbers and isinstance(value, str):
                msg = (
                    f"{self.where}: filter {self.text!r}: column {column.name!r} holds numbers, not text; "
                    f"compare it with a number, without quotes"
                )
                raise MapOptionError(msg)

    def _members(self, left, values: list, n: int) -> np.ndarray:
        import numpy as np
        import pandas as pd

        if isinstance(left, pd.Series):
            return left.isin(values).to_numpy(dtype=bool)
        return np.full(n, left in values)

    def _as_mask(self, value, n: int) -> np.ndarray:
        import numpy as np
        import pandas as pd

        if isinstance(value, pd.Series):
            if not pd.api.types.is_bool_dtype(value.dtype):
                msg = f"{self.where}: filter {self.text!r}: column {value.name!r} is not a condition; compare it"
                raise MapOptionError(msg)
            return value.fillna(False).to_numpy(dtype=bool)
        if isinstance(value, np.ndarray):
            return value.astype(bool)
        if isinstance(value, bool):
            return np.full(n, value)
        msg = f"{self.where}: filter {self.text!r} is not a condition (it gives {value!r})"
        raise MapOptionError(msg)


def _depth(tree: ast.AST) -> int:
    """Return how deeply a syntax tree nests, without recursing (the tree may be deeper than Python's stack)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool))


def _literal_value(node: ast.AST):
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal_value(element) for element in node.elts]
    if isinstance(node, ast.UnaryOp):
        return -_literal_value(node.operand)
    return node.value
