//! The `maestro` command line end to end: backtests on candle files, sweeps, `fetch` from the
//! fake BitMEX, the local run's parity with the backtest, and its route server's refusals.
//!
//! Real market data (`../shared/data`) → the synthetic test that checks the same behaviour on every
//! clone:
//!
//! | real data (skips without it) | synthetic, always runs |
//! |---|---|
//! | `run_parity::replaying_real_candles_trades_exactly_like_the_backtest` | `run_parity::replaying_synthetic_candles_trades_exactly_like_the_backtest` |
//! | `run_parity::a_stopped_and_resumed_run_ends_like_an_uninterrupted_one` | `run_parity::a_stopped_and_resumed_synthetic_run_ends_like_an_uninterrupted_one` |
//! | `run_parity::an_exchange_outage_in_the_data_is_handled_like_the_backtest` | `run_parity::an_exchange_outage_in_synthetic_data_is_handled_like_the_backtest` |
//! | `backtest_sim_parity::sim_exchange_trades_exactly_like_the_backtest` | `backtest_sim_parity::sim_exchange_trades_exactly_like_the_backtest_on_synthetic_data` |
//! | `backtest_cli::backtest_writes_its_chart_and_sweep_its_heatmap` | `backtest_cli::backtest_writes_its_chart_and_sweep_its_heatmap_on_synthetic_data` |
//! | `backtest_gaps::outages_keep_the_position_and_restart_the_warm_up` | maestro-cli `backtest::tests::a_gap_keeps_the_position_and_restarts_the_warm_up`; `run_parity::an_exchange_outage_in_synthetic_data_is_handled_like_the_backtest` |
//! | `sweep_real_data::sweep_results_equal_single_backtests_on_a_random_sample` | maestro-cli `sweep::tests::every_pair_equals_its_single_backtest_in_every_mode_with_gaps` |
//! | `sweep_real_data::guarded_sweep_results_equal_single_backtests_on_real_data` | maestro-cli `sweep::tests::guarded_sweeps_equal_the_core_strategy_for_every_pair` |
//! | `sweep_real_data::plain_crossover_loses_after_fees_for_every_pair_2_to_30_in_may_2021` | maestro-cli `backtest::tests::fees_turn_a_flat_market_whipsaw_into_a_loss` (the mechanism; the claim about May 2021 is about that data) |
//! | `backtest_files::shared_files_load_as_their_readme_describes` | maestro-cli `candles_file::tests` (every format, stamps, gaps listed); the row counts are facts about the shared files |
//! | `bars_and_grid::the_real_hourly_file_loads_with_its_43_stray_rows_skipped_and_located` | `bars_and_grid::a_file_with_off_grid_rows_backtests_and_the_refusal_names_the_row`; maestro-cli `candles_file::tests::off_grid_rows_are_located_snapped_or_refused_as_asked` |
//! | `walk_forward_real_data::real_folds_trade_like_plain_backtests_across_outages` | maestro-cli `walk_forward::tests::a_folds_trades_equal_a_plain_backtest_of_the_chosen_pair` (synthetic, with gaps) |
//! | `bars_and_grid::real_minutes_of_may_2021_aggregate_like_a_plain_grouping`, `bars_and_grid::an_outage_in_real_minutes_is_a_gap_in_hourly_bars` | `bars_and_grid::daily_bars_from_hourly_rows_backtest_the_deployment_defaults`; maestro-cli `candles_file::tests::minutes_aggregate_to_hours_and_days_as_a_plain_grouping_does` |
//! | `fetch_real_data::the_real_xbtusd_month_downloads_with_its_prices_unchanged` | `fetch_download` (paging, resume, repair, prices with long decimal spellings, on synthetic LTCUSDT) |

mod backtest_cli;
mod backtest_files;
mod backtest_gaps;
mod backtest_sim_parity;
mod bars_and_grid;
mod fetch_download;
mod fetch_errors;
mod fetch_pacing;
mod fetch_real_data;
mod run_parity;
mod run_routes_guard;
mod run_routes_support;
mod run_routes_token;
mod sweep_real_data;
mod walk_forward_real_data;
