//! The tick end to end: the real tick against the fake BitMEX and a real store, through its
//! normal flow, faults, races between concurrent ticks, backlogs, and a seeded chaos run.
//!
//! Real market data (`../shared/data`) → the synthetic test that checks the same behaviour on every
//! clone:
//!
//! | real data (skips without it) | synthetic, always runs |
//! |---|---|
//! | `chaos::chaos_run_dynamo`, `chaos::chaos_run_file` | `chaos::chaos_run_synthetic_dynamo`, `chaos::chaos_run_synthetic_file` |
//! | `backlog::exchange_outage_dynamo`, `backlog::exchange_outage_file` | `backlog::exchange_outage_synthetic_dynamo`, `backlog::exchange_outage_synthetic_file` |
//!
//! `flow`, `faults`, `races` and the missed-minutes tests of `backlog` need a crossover of a given
//! shape, not real prices: they find it in the seeded synthetic market
//! (`tick_harness::synthetic_bars`) and always run.

mod backlog;
mod chaos;
mod faults;
mod flatten_race;
mod flow;
mod handler;
mod races;
mod scenarios;
