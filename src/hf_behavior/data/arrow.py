"""Rows to Arrow tables for the `dataset_builder` builders, which yield batches (`datasets.ArrowBasedBuilder`):
datasets' per-example encoding walks every nested value of every row and cost more than the rest of the export."""

from __future__ import annotations

from operator import itemgetter

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
    """One table from rows holding every column of `schema` (two or more; `Json` values already as JSON text). The
    rows become columns in C (`itemgetter`, `zip`) rather than by a list comprehension per column."""
    columns = zip(*map(itemgetter(*schema.names), rows))
    return pa.Table.from_arrays([pa.array(column, type=f.type) for column, f in zip(columns, schema)], schema=schema)
