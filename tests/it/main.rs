//! The one integration test crate: every end-to-end test is a module here, so the shared
//! support (daemon harness, fake provider) compiles once instead of once per test binary.

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod download;
mod fake_provider_selftest;
mod faults;
mod hooks;
mod insight;
mod outcomes;
mod packaging;
mod queue;
mod search;
mod service;
mod soak;
mod socket;
