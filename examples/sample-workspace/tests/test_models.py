import pytest

from inventory.models import Item, OutOfStockError, Warehouse


def test_reserve_reduces_stock() -> None:
    warehouse = Warehouse()
    warehouse.add_item(Item("A1", "bolt", 25, quantity=10))
    assert warehouse.reserve("A1", 3).quantity == 7


def test_reserve_refuses_more_than_available() -> None:
    warehouse = Warehouse()
    warehouse.add_item(Item("A1", "bolt", 25, quantity=1))
    with pytest.raises(OutOfStockError):
        warehouse.reserve("A1", 2)
