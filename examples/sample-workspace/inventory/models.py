"""Domain objects: items and the warehouse that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field


class OutOfStockError(Exception):
    """Raised when a reservation asks for more units than are available."""


@dataclass
class Item:
    """A stock-keeping unit with a price in cents and a quantity on hand."""

    sku: str
    name: str
    price_cents: int
    quantity: int = 0

    def total_value_cents(self) -> int:
        """Value of all units on hand."""
        return self.price_cents * self.quantity


@dataclass
class Warehouse:
    """Holds items by SKU and handles reservations."""

    items: dict[str, Item] = field(default_factory=dict)

    def add_item(self, item: Item) -> None:
        self.items[item.sku] = item

    def reserve(self, sku: str, quantity: int) -> Item:
        """Take `quantity` units of `sku` out of stock."""
        item = self.items[sku]
        if item.quantity < quantity:
            raise OutOfStockError(f"only {item.quantity} of {sku} left")
        item.quantity -= quantity
        return item

    def inventory_value_cents(self) -> int:
        total = 0
        for sku in self.items:
            total = total + self.items[sku].total_value_cents()
        return total
