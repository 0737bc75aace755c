//! The core on real market data and on a Cortex-M under QEMU, giving the host's decisions.

mod firmware_qemu;
mod real_data;
