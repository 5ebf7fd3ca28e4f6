//! vfetch: a daemon that finds stock videos on a theme and downloads them into a curated,
//! de-duplicated, validated library, and the client that controls it.
//!
//! Data flows one way: `ipc` frames → `daemon` handlers → `store` (the single source of truth)
//! → scheduler → workers → events back to subscribers. `cli` renders for `vfetchctl`.

pub mod attribution;
pub mod breaker;
pub mod candidate;
pub mod chunk_sums;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod download;
pub mod egress;
pub mod events;
pub mod export;
pub mod fetch;
pub mod gallery;
pub mod hooks;
pub mod input;
pub mod insight;
pub mod ipc;
pub mod job;
pub mod library;
pub mod permissions;
pub mod protocol;
pub mod ratelimit;
pub mod retry;
pub mod scheduler;
pub mod schema;
pub mod source_kind;
pub mod sources;
pub mod store;
pub mod subprocess;
pub mod text;
pub mod thumbnail;
pub mod timestamp;
pub mod validate;
pub mod waiting;
