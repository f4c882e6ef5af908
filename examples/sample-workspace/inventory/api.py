"""HTTP handlers: validate the request, call the warehouse, shape the response."""

from __future__ import annotations

from typing import Any

from inventory.models import OutOfStockError, Warehouse


def handle_reserve(warehouse: Warehouse, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    sku = body.get("sku")
    quantity = body.get("quantity", 1)
    if not isinstance(sku, str) or not isinstance(quantity, int) or quantity <= 0:
        return 400, {"error": "sku (string) and a positive quantity are required"}
    try:
        item = warehouse.reserve(sku, quantity)
    except KeyError:
        return 404, {"error": f"unknown sku {sku}"}
    except OutOfStockError as exc:
        return 409, {"error": str(exc)}
    return 200, {"sku": item.sku, "remaining": item.quantity}


def handle_value(warehouse: Warehouse) -> tuple[int, dict[str, Any]]:
    return 200, {"value_cents": warehouse.inventory_value_cents()}
