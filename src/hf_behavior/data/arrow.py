"""Rows to Arrow tables for the `dataset_builder` builders, which yield batches (`datasets.ArrowBasedBuilder`):
datasets' per-example encoding walks every nested value of every row and cost more than the rest of the export."""

from __future__ import annotations

import pyarrow as pa
from datasets import Features


def _storage(kind: pa.DataType) -> pa.DataType:
    if isinstance(kind, pa.BaseExtensionType):
        return kind.storage_type
    if pa.types.is_list(kind):
        return pa.list_(_storage(kind.value_type))
    return kind


def storage_schema(features: Features) -> pa.Schema:
    """The features' Arrow schema with `Json` values as their storage, JSON text; the writer casts them back."""
    return pa.schema([pa.field(f.name, _storage(f.type)) for f in features.arrow_schema])


def rows_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """One table from rows holding every column of `schema` (`Json` values already as JSON text)."""
    return pa.Table.from_pydict({name: [row[name] for row in rows] for name in schema.names}, schema=schema)
