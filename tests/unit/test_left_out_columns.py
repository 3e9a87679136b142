"""A plain read that leaves columns out keeps the row's shape: a typed NULL in each one's place, under its
name; a name that is not a column of the model is refused rather than read in full."""

from __future__ import annotations

import pytest
from sqlalchemy import JSON
from sqlalchemy.sql.elements import Label, Null

from db.batch_reads import every_column, plain_shape
from db.models import PaymentAllocation, Ticket


def test_each_left_out_column_is_a_null_of_its_type_under_its_name_and_the_others_are_read() -> None:
    left_out = frozenset({"classifier_evidence", "classifier_priority_evidence"})

    columns = list(every_column(Ticket, left_out).selected_columns)
    everything = list(every_column(Ticket).selected_columns)

    assert [column.key for column in columns] == [column.key for column in everything]
    nulls = {
        column.key: column
        for column in columns
        if isinstance(column, Label) and isinstance(getattr(column.element, "clause", None), Null)
    }
    assert set(nulls) == left_out
    assert all(isinstance(column.type, JSON) for column in nulls.values())


def test_a_name_that_is_not_a_column_is_refused() -> None:
    with pytest.raises(ValueError, match="no columns \\['classifier_words'\\]"):
        every_column(Ticket, frozenset({"classifier_words"}))


def test_a_joined_row_s_columns_are_left_out_by_their_path_and_its_key_is_always_read() -> None:
    statement, _ = plain_shape(PaymentAllocation, (PaymentAllocation.bill,), frozenset({"bill.total_amount", "principal"}))
    nulls = {
        column.key
        for column in statement.selected_columns
        if isinstance(column, Label) and isinstance(getattr(column.element, "clause", None), Null)
    }
    assert nulls == {"bill__total_amount", "principal"}
    assert "bill__id" in {column.key for column in statement.selected_columns}
    with pytest.raises(ValueError, match="key \\['id'\\] is always read"):
        plain_shape(PaymentAllocation, (PaymentAllocation.bill,), frozenset({"bill.id"}))
    with pytest.raises(ValueError, match="joins no rows \\['unit'\\]"):
        plain_shape(PaymentAllocation, (PaymentAllocation.bill,), frozenset({"unit.number"}))
