//! `maestro`: the local CLI (run, backtest, sweep, fetch).

fn main() {
    println!("maestro {}", env!("CARGO_PKG_VERSION"));
}
