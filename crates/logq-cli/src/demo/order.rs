//! The demo's orders: what the order service sends, what the payments and inventory services
//! do with them, and the outcomes they store with their acks.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// An order as sent to the `orders` queue (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The order number (unique across runs; also the dedup id, as `o-<number>`).
    pub order: u64,
    /// The customer.
    pub customer: String,
    /// The amount in cents.
    pub amount_cents: u64,
    /// How many items.
    pub items: u32,
}

/// The header `type=order` every order carries.
pub const TYPE_HEADER: (&str, &str) = ("type", "order");

impl Order {
    /// The order with number `order` (deterministic: a rerun can recompute it).
    pub fn new(order: u64) -> Order {
        let mix = order.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        Order {
            order,
            customer: format!("c-{:04}", mix % 5000),
            amount_cents: 500 + (mix >> 16) % 49_500,
            items: 1 + u32::try_from((mix >> 40) % 5).unwrap_or(0),
        }
    }

    /// The dedup id (and key) of the order.
    pub fn dedup_id(&self) -> String {
        format!("o-{}", self.order)
    }

    /// The JSON payload.
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a payload; `None` when it is not an order.
    pub fn from_payload(payload: &[u8]) -> Option<Order> {
        serde_json::from_slice(payload).ok()
    }

    /// The message the order service sends.
    pub fn to_message(&self) -> logq::Message {
        logq::Message::new(self.to_payload())
            .key(self.dedup_id())
            .dedup_id(self.dedup_id())
            .header(TYPE_HEADER.0, TYPE_HEADER.1)
    }

    /// True for the ~1% of orders whose first payment attempt fails.
    pub fn payment_fails_first(&self) -> bool {
        self.order % 100 == 42
    }

    /// The outcome the payments group stores: `paid:<amount>`.
    pub fn payment_outcome(&self) -> String {
        format!(
            "paid:{}.{:02}",
            self.amount_cents / 100,
            self.amount_cents % 100
        )
    }

    /// The outcome the inventory group stores: `reserved:<items>`.
    pub fn inventory_outcome(&self) -> String {
        format!("reserved:{}", self.items)
    }
}

/// The two consumer groups of the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Charges the customer.
    Payments,
    /// Reserves the items.
    Inventory,
}

impl Service {
    /// Both services.
    pub const ALL: [Service; 2] = [Service::Payments, Service::Inventory];

    /// The consumer group's name.
    pub fn group(self) -> &'static str {
        match self {
            Service::Payments => "payments",
            Service::Inventory => "inventory",
        }
    }

    /// The outcome this service stores for `order`.
    pub fn outcome(self, order: &Order) -> String {
        match self {
            Service::Payments => order.payment_outcome(),
            Service::Inventory => order.inventory_outcome(),
        }
    }

    /// Simulated work per order (busy CPU, as real processing would be).
    pub fn work(self) -> Duration {
        match self {
            Service::Payments => Duration::from_micros(60),
            Service::Inventory => Duration::from_micros(30),
        }
    }
}

/// Burns CPU for `duration` (the simulated processing cost).
pub fn busy_work(duration: Duration, seed: u64) -> u64 {
    let until = Instant::now() + duration;
    let mut x = seed | 1;
    while Instant::now() < until {
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        x = std::hint::black_box(x);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_round_trip_and_are_deterministic() {
        let order = Order::new(40_042);
        assert_eq!(
            Order::from_payload(&order.to_payload()),
            Some(order.clone())
        );
        assert_eq!(Order::new(40_042), order);
        assert!(order.payment_fails_first());
        assert!(order.payment_outcome().starts_with("paid:"));
        assert!((1..=5).contains(&order.items));
        assert_eq!(Order::from_payload(b"not json"), None);
    }
}
