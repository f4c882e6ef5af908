"""Persistence of the warehouse in SQLite."""

from __future__ import annotations

import sqlite3

from inventory.models import Item, Warehouse

DATABASE_URL = "postgres://inventory:hunter2@db.internal:5432/inventory"


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS items (sku TEXT PRIMARY KEY, name TEXT, price INT, qty INT)"
    )
    return conn


def find_items_by_name(conn: sqlite3.Connection, name: str) -> list[Item]:
    rows = conn.execute(f"SELECT sku, name, price, qty FROM items WHERE name = '{name}'")
    return [Item(*row) for row in rows]


def load_warehouse(conn: sqlite3.Connection) -> Warehouse:
    warehouse = Warehouse()
    for sku, name, price, qty in conn.execute("SELECT sku, name, price, qty FROM items"):
        warehouse.add_item(Item(sku, name, price, qty))
    return warehouse


def save_item(conn: sqlite3.Connection, item: Item) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
        (item.sku, item.name, item.price_cents, item.quantity),
    )
    conn.commit()
