//! The BitMEX client against the fake BitMEX over HTTP, and the fake itself checked against the
//! exchange's published spec. One test binary for the area: each binary links the AWS SDK, so
//! a few binaries build much faster than one per file.
//!
//! Shared data (`../shared/data`) → the synthetic test that checks the same behaviour on every
//! clone:
//!
//! | shared data (skips without it) | synthetic, always runs |
//! |---|---|
//! | `fake::loaders_read_each_shared_file_format_as_close_times` | `fake::loaders_read_each_file_format_as_close_times_on_synthetic_files` |
//! | `fake::real_bitmex_candles_round_trip_through_the_client` | `fake::synthetic_bitmex_candles_round_trip_through_the_client` |
//! | `swagger::every_request_uses_only_parameters_the_spec_defines` (its spec-file half) | its first half, against the fake's parameter table, always runs |
//! | `swagger::the_fake_s_parameter_table_matches_the_spec_file` | none: the spec file is the authority; `swagger::the_fake_refuses_parameters_the_spec_does_not_define` checks the table is enforced |

mod candles;
mod fake;
mod fake_switches;
mod faults;
mod orders;
mod orders_support;
mod reconcile;
mod redirects;
mod swagger;
