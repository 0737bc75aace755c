//! The BitMEX client against the fake BitMEX over HTTP, and the fake itself checked against the
//! exchange's published spec. One test binary for the area: each binary links the AWS SDK, so
//! a few binaries build much faster than one per file.

mod candles;
mod fake;
mod faults;
mod orders;
mod swagger;
