//! What the order-listing and fake-switch tests share: an LTCUSDT fake with a short synthetic
//! market, and a plain market order.

use maestro_lambda::exchange::{BinSize, OrderRequest, Side};
use maestro_tests::fake_bitmex::{FakeBitmex, synthetic};

/// The symbol every order of these tests trades.
pub(crate) const SYMBOL: &str = "LTCUSDT";

/// The first candle's close time (2024-01-01 00:01 UTC).
const FIRST_CLOSE: i64 = 1_704_067_260_000;

/// A fake BitMEX serving 20 rising one-minute candles of [`SYMBOL`], 10 of them completed.
pub(crate) async fn fake() -> FakeBitmex {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let bars = synthetic(FIRST_CLOSE, BinSize::M1, 20, |i| 90.0 + i as f64 * 0.1);
    fake.set_series(SYMBOL, BinSize::M1, bars, 10);
    fake
}

/// A market order of [`SYMBOL`] with the client order id `id`.
pub(crate) fn order(side: Side, qty: u64, id: &str) -> OrderRequest {
    OrderRequest {
        symbol: SYMBOL.into(),
        side,
        qty,
        cl_ord_id: id.into(),
        reduce_only: false,
        close: false,
    }
}
