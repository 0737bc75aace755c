//! What deployment relies on: the SAM template, and the `bootstrap` binary answering through the
//! Lambda runtime emulator.

mod dashboard_emulator;
mod dashboard_proxy;
mod iam_emulator;
mod least_privilege;
mod readme_secrets;
mod routes_emulator;
mod template_sam;
