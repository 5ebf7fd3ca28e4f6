//! One file per group of routes, each with a `routes()` the router merges. A route extracts,
//! builds a `protocol::Request`, asks [`super::call`], and hands the answer to `json.rs`.
//! Each handler carries its `#[utoipa::path]` description and is registered with `routes!`
//! (`register.rs`; handlers of one path together), never with a bare `.route(...)`.

pub mod config;
pub mod control;
pub mod events;
pub mod export;
pub mod health;
pub mod insight;
pub mod jobs;
pub mod library;
pub mod login;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod original;
pub mod ui;

use std::str::FromStr;

use super::problem::{Problem, ProblemKind};
use crate::input::InvalidInput;

/// Parses one value from a query or body with its type's own words for a bad one (422).
fn parse<T: FromStr<Err = InvalidInput>>(text: &str) -> Result<T, Problem> {
    text.trim()
        .parse()
        .map_err(|e: InvalidInput| Problem::new(ProblemKind::BadValue, e.0))
}

/// A comma-separated list (`?state=queued,paused`), each item parsed; empty items are skipped.
fn parse_list<T: FromStr<Err = InvalidInput>>(text: &str) -> Result<Vec<T>, Problem> {
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(parse)
        .collect()
}
