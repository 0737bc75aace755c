//! The core never allocates: a counting global allocator watches 1,000,000 candles go through a
//! strategy (single steps, batches, snapshots, order planning) and must see zero allocations.
//!
//! Alone in its own test binary, without libtest's harness (`harness = false`): the harness's
//! main thread allocates while it starts the test thread, which the global count would catch.
#![allow(clippy::unwrap_used)]

use maestro_core::{
    Candle, DemoMarket, Guards, Mode, Params, Price, Strategy, run_batch, snapshot::SnapshotError,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CAP: usize = 64;
const CANDLES: usize = 1_000_000;
const CHUNK: usize = 250;

fn main() {
    a_million_candles_allocate_nothing();
    println!("test a_million_candles_allocate_nothing ... ok");
    println!("1 passed; 0 failed");
}

fn a_million_candles_allocate_nothing() {
    let params = Params {
        short_window: 10,
        long_window: 50,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: 60_000,
        guards: Guards {
            hysteresis_bp: 5,
            confirm_bars: 2,
            min_hold_bars: 3,
        },
    };
    let mut market = DemoMarket::new(42, 60_000, 60_000);
    let mut chunk = [Candle {
        close_time_ms: 0,
        open: Price(1),
        high: Price(1),
        low: Price(1),
        close: Price(1),
    }; CHUNK];
    let mut snap = [0u8; Strategy::<CAP>::MAX_SNAPSHOT_LEN];
    let mut signals = 0usize;
    let mut orders = 0usize;

    let region = Region::new(GLOBAL);
    let mut s = Strategy::<CAP>::new(params).unwrap();
    let mut fed = 0;
    while fed < CANDLES {
        if fed % (CHUNK * 2) == 0 {
            // Every other chunk through the batch entry point…
            for slot in chunk.iter_mut() {
                *slot = market.next().unwrap();
            }
            let stats = run_batch(&mut s, &chunk, |_, _| signals += 1).unwrap();
            assert_eq!(stats.candles, CHUNK);
        } else {
            // …the rest one candle at a time.
            for _ in 0..CHUNK {
                let c = market.next().unwrap();
                if let maestro_core::Step::Signal(_) = s.on_candle(&c).unwrap() {
                    signals += 1;
                }
            }
        }
        fed += CHUNK;
        if s.plan_order(0).is_some() {
            orders += 1;
        }
        // A snapshot round trip now and then, as the runner does after each tick.
        let n = s.encode(&mut snap).unwrap();
        s = Strategy::<CAP>::decode(&snap[..n]).unwrap();
        assert_eq!(s.encode(&mut [0u8; 8]), Err(SnapshotError::BufferTooSmall));
    }
    let stats = region.change();

    assert_eq!(fed, CANDLES);
    assert!(
        signals > 1000,
        "only {signals} signals: the market did not exercise the crossover"
    );
    assert!(orders > 0);
    assert_eq!(
        (
            stats.allocations,
            stats.reallocations,
            stats.bytes_allocated
        ),
        (0, 0, 0),
        "the core allocated while handling {CANDLES} candles"
    );
}
