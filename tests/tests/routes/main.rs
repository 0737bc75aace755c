//! The function URL's routes and the Lambda handler end to end over the real adapters (a
//! `FileStore` or `DynamoStore`, the `BitmexClient` against the fake BitMEX): authentication, every
//! route, bad input, and what the handler logs.

mod support;

mod api;
mod control;
mod fuzz;
mod handler;
mod handler_roles;
mod status;
