//! The state stores and the secret store end to end: `DynamoStore` and Secrets Manager against
//! moto on 127.0.0.1, `FileStore` on a real directory, and the behaviour every `StateStore`
//! adapter shares (`suite`), written once and run against each adapter.

#[macro_use]
mod suite;

mod dynamo;
mod dynamo_errors;
mod faults;
mod file;
mod schema1;
mod secrets_manager;
