"""Event ids in commit order (SPEC §12a, issue 35).

An event's id is taken from a sequence at INSERT and becomes visible at COMMIT, so with two
transactions writing events at once, 33 could be visible (and published, and in a snapshot)
while 32 was still to come. A statement-level BEFORE INSERT trigger on the events table takes
a transaction-scoped advisory lock before the row's id is drawn (PostgreSQL runs statement
triggers before it evaluates the rows' defaults), held until the transaction ends: transactions
that write events take their ids one after the other, so id order is commit order, and every
insert path (create, bulk_create, raw SQL) is covered. SQLite (embedded mode) already lets one
writer at a time in. The cost is measured in docs/ARCHITECTURE.md ("Live events")."""

from django.db import migrations

LOCK_KEY = 112_035  # the advisory lock's key: anything else taking it waits for events

CREATE = f"""
CREATE OR REPLACE FUNCTION dispatch112_events_in_commit_order() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS events_in_commit_order ON reports_event;
CREATE TRIGGER events_in_commit_order BEFORE INSERT ON reports_event
    FOR EACH STATEMENT EXECUTE FUNCTION dispatch112_events_in_commit_order();
"""
DROP = """
DROP TRIGGER IF EXISTS events_in_commit_order ON reports_event;
DROP FUNCTION IF EXISTS dispatch112_events_in_commit_order();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
