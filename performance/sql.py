"""SQL building blocks the performance statistics need on both databases."""

import math

from django.db.backends.signals import connection_created
from django.db.models import Aggregate, FloatField, Func
from django.dispatch import receiver


class Seconds(Func):
    """end − start in seconds, as a float."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        # date_part gives double precision; EXTRACT gives numeric since PostgreSQL 14, and
        # percentile_cont sorting a million numerics costs about a third more.
        return self.as_sql(
            compiler, connection, template="date_part('epoch', %(expressions)s)",
            arg_joiner=" - ", **extra,
        )  # fmt: skip

    def as_sqlite(self, compiler, connection, **extra):
        # → ROUND((julianday(end) - julianday(start)) * 86400.0, 3): julianday() is a float of
        # days, so a response of exactly 600 s comes out as 600.00002; rounding to the
        # millisecond makes SQLite agree with PostgreSQL's exact interval arithmetic.
        return self.as_sql(
            compiler, connection, template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(", **extra,
        )  # fmt: skip


class PercentileCont(Aggregate):
    """The continuous percentile with linear interpolation (PostgreSQL's percentile_cont);
    NULLs are ignored, no sample gives NULL."""

    function = "percentile_cont"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        self.fraction = float(fraction)
        super().__init__(expression, **extra)

    def _with_template(self, template: str):
        # Aggregate.as_sql reads self.template (it wraps it for FILTER), so set it on a copy.
        clone = self.copy()
        clone.template = template
        return clone

    def as_postgresql(self, compiler, connection, **extra):
        template = f"%(function)s({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
        return Aggregate.as_sql(self._with_template(template), compiler, connection, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = f"%(function)s(%(expressions)s, {self.fraction!r})"
        return Aggregate.as_sql(self._with_template(template), compiler, connection, **extra)


class _SQLitePercentile:
    """percentile_cont(value, fraction) for SQLite, with PostgreSQL's semantics."""

    def __init__(self):
        self.values = []
        self.fraction = None

    def step(self, value, fraction):
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self):
        if not self.values:
            return None
        ordered = sorted(self.values)
        position = (len(ordered) - 1) * self.fraction
        low, high = math.floor(position), math.ceil(position)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@receiver(connection_created)
def _register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("percentile_cont", 2, _SQLitePercentile)
