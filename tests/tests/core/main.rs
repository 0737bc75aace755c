//! The core on real market data and on a Cortex-M under QEMU, giving the host's decisions.
//!
//! Real market data (`../shared/data`) → the synthetic test that checks the same behaviour on every
//! clone (besides maestro-core's own property tests against a reference model, `core/tests/reference.rs`):
//!
//! | real data (skips without it) | synthetic, always runs |
//! |---|---|
//! | `real_data::signal_times_on_real_ltc_data_equal_the_naive_reference` | `real_data::signal_times_on_synthetic_data_equal_the_naive_reference` |
//! | `real_data::guarded_signal_times_on_real_ltc_data_equal_the_naive_reference` | `real_data::guarded_signal_times_on_synthetic_data_equal_the_naive_reference` |
//! | `real_data::real_exchange_outages_are_reported_as_gaps` | `real_data::synthetic_exchange_outages_are_reported_as_gaps` |

mod firmware_qemu;
mod real_data;
