"""What every benchmark part shares: its knobs (BENCH_TINY=1: tiny counts, seconds per part,
on databases of their own) and the bare-SQL INSERTs of its baselines, built from the models."""

from __future__ import annotations

import json
import os

TINY = os.environ.get("BENCH_TINY", "") not in ("", "0")


def pick(default, tiny):
    """`tiny` under BENCH_TINY=1, else `default`."""
    return tiny if TINY else default


def knob(name: str, default, tiny=None):
    """The environment's `name` when it is set (it always wins), else the tiny count under
    BENCH_TINY=1 (when there is one), else the default; of the default's type."""
    raw = os.environ.get(name, "").strip()
    if raw:
        return type(default)(raw)
    return pick(default, default if tiny is None else tiny)


def require(condition: bool, what: str) -> None:
    """No thresholds, but a measurement that produced nothing fails the part (run.py)."""
    if not condition:
        raise SystemExit(f"benchmark failed: {what}")


def literal(value) -> str:
    """A Python default as an SQL literal, for a statement run with parameters (% doubled)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def insert_sql(model, values: dict[str, str], *, select: str = "", returning: str = "") -> str:
    """`INSERT INTO` the model's table for bare psycopg: `values` maps columns to SQL
    expressions (placeholders, literals, now()); every other NOT NULL column gets its field's
    default (now() for auto_now(_add)), so that a column the model gains cannot break a
    baseline again (issue 32). With `select` (what follows the expressions: FROM …), an
    INSERT … SELECT; a NOT NULL column with no default and no value is an error."""
    from django.db.models import NOT_PROVIDED
    from django.db.models.fields import AutoFieldMixin

    meta = model._meta
    unknown = set(values) - {field.column for field in meta.concrete_fields}
    if unknown:
        raise ValueError(f"{meta.db_table} has no column {', '.join(sorted(unknown))}")
    columns = dict(values)
    for field in meta.concrete_fields:
        if (
            field.column in columns
            or field.null
            or isinstance(field, AutoFieldMixin)
            or field.db_default is not NOT_PROVIDED
        ):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            columns[field.column] = "now()"
        elif field.has_default() or field.empty_strings_allowed:
            columns[field.column] = literal(field.get_default())
        else:
            raise ValueError(f"{meta.db_table}.{field.column} is NOT NULL: give it a value")
    names, expressions = ", ".join(columns), ", ".join(columns.values())
    body = f"SELECT {expressions} {select}" if select else f"VALUES ({expressions})"
    sql = f"INSERT INTO {meta.db_table} ({names}) {body}"
    return f"{sql} RETURNING {returning}" if returning else sql
