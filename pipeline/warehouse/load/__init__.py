"""Load: documents in the raw folder become warehouse rows, batch by batch.

Readers turn each document into canonical studies; the normalizer turns a batch of studies into
frames; here the frames are appended to DuckDB as Arrow, and provenance is recorded: every
document, every rejected record, and where every study record sits (study_records). One job per
module:

- `raw_folder`: the inventory (which files are documents, where the folder ends) and hashing;
- `records`: a record's version and precedence (which version of a study is current);
- `guard`: the one place a record is guarded (reading, checking, hashing, normalizing), for both builds;
- `parts`: documents gathered into units of work, big ones shared out in ranges;
- `pool`: the worker processes that read them;
- `provenance`: writing rows, and the provenance tables both builds rebuild alike;
- `full`, `incremental`: the two builds.
"""
from pipeline.warehouse.load.full import load_full
from pipeline.warehouse.load.incremental import load_incremental
from pipeline.warehouse.load.provenance import LOADED_TABLES, LoadSummary
from pipeline.warehouse.load.raw_folder import Inventory, RawDocument, inventory, read_inventory, sources_hash
from pipeline.warehouse.load.records import PRECEDENCE_SQL

__all__ = [
    "LOADED_TABLES", "PRECEDENCE_SQL", "Inventory", "LoadSummary", "RawDocument", "inventory", "load_full",
    "load_incremental", "read_inventory", "sources_hash",
]
