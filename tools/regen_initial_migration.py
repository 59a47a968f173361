"""Regenerate migration 0001 from the models (only before the first release; later, add revisions)."""
import tempfile
from pathlib import Path

from alembic import command

from mailbot.adapters import migrations
from mailbot.adapters.db import make_engine

target = migrations.HERE / "versions" / "0001_initial_schema.py"
target.unlink(missing_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(f"sqlite:///{Path(tmp) / 'gen.sqlite3'}")
    command.revision(migrations._alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001")
# Migrations stand alone: the UTC type is a DateTime(timezone=True) in the schema.
text = target.read_text().replace("mailbot.adapters.db.UTCDateTime(timezone=True)", "sa.DateTime(timezone=True)")
target.write_text(text)
