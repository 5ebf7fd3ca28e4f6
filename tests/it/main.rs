//! The one integration test crate: every end-to-end test is a module here, so the shared
//! support (daemon harness, fake provider) compiles once instead of once per test binary.

#[path = "../support/mod.rs"]
mod support;

mod browser;
mod cli;
mod database;
mod dns_ttl;
mod download;
mod ecosystem;
mod egress;
mod fake_provider_selftest;
mod faults;
mod foreign_database;
mod health;
mod hooks;
mod hostile_clients;
mod http_api;
mod http_live;
mod human_durations;
mod insight;
mod json_schema;
mod layering;
mod migration;
mod newcomer;
mod openapi;
mod outcomes;
mod packaging;
mod partial_files;
mod plain_words;
mod progress_bars;
mod queue;
mod search;
mod service;
mod soak;
mod socket;
mod terminal_text;
mod thumbnails;
mod waiting;
