//! What deployment relies on: the SAM template, and the `bootstrap` binary answering through the
//! Lambda runtime emulator.

mod routes_emulator;
mod template_sam;
