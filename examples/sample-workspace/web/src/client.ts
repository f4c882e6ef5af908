// Typed client for the inventory HTTP API.

export interface ReserveResponse {
  sku: string;
  remaining: number;
}

export class InventoryClient {
  constructor(private readonly baseUrl: string) {}

  async reserve(sku: string, quantity: number): Promise<ReserveResponse> {
    const response = await fetch(`${this.baseUrl}/reserve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sku, quantity }),
    });
    if (!response.ok) {
      throw new Error(`reserve failed: ${response.status}`);
    }
    return (await response.json()) as ReserveResponse;
  }

  async inventoryValue(): Promise<number> {
    const response = await fetch(`${this.baseUrl}/value`);
    const body = (await response.json()) as { value_cents: number };
    return body.value_cents;
  }
}
