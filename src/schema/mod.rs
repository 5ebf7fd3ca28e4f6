//! The public JSON shapes: what `vfetchctl --json` prints and `watch --json` streams, and what
//! the HTTP API sends. One versioned, documented schema (schema/vfetch.schema.json, printed by
//! `vfetchctl schema`), built from the domain and protocol types by `From` conversions, so the
//! socket protocol (bincode) can keep its own shapes.
//!
//! Versioning: adding fields or event types keeps [`SCHEMA_VERSION`]; consumers ignore what they
//! do not know. Renaming or removing anything, or a new value of an existing enum, bumps it.

mod download;
mod event;
mod insight;
mod job;
mod library;
mod status;

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

pub use download::{Download, DownloadError, Validation, ValidationState};
pub use event::{Breaker, Event, Hello, Lagged, Progress, RateLimited, Retry, Snapshot};
pub use insight::{
    CleanupReport, HistoryEntry, Message, PeriodTotals, Setting, SourceStats, Stats, ThemeCount,
    Totals,
};
pub use job::{
    Attribution, Candidate, Checksum, ChecksumAlgorithm, Job, JobDetail, WaitReason, Waiting,
};
pub use library::{LibraryPage, LibraryVideo, ThumbnailReport};
pub use status::{
    BreakerStatus, RateLimit, RateWindow, Source, SourceState, Status, Validator, ValidatorState,
};

/// The version of the public JSON schema; see the module comment for when it changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The schema's `$id`; it names the version, so a new version is a new document.
pub const SCHEMA_ID: &str = "urn:vfetch:schema:v1";

/// Adds `T`'s definition (and everything it refers to) to `generator`; returns a `$ref` to it.
fn reference<T: JsonSchema>(generator: &mut schemars::SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

/// The JSON Schema (draft 2020-12) of every `--json` output and `watch --json` line: `$defs`
/// for each public type, plus one `…Output` definition per command and `WatchLine` for the
/// event stream. Deterministic, so it can be compared with the checked-in file.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let job = reference::<Job>(&mut generator);
    let outputs = [
        (
            "AddOutput",
            "`add --json` (and `add --wait --json`): the job.",
            job.clone(),
        ),
        (
            "JobsOutput",
            "`list`, `pause`, `resume`, `cancel`, `priority` with --json: jobs in queue order.",
            json!({"type": "array", "items": job}),
        ),
        (
            "ShowOutput",
            "`show ID --json`.",
            reference::<JobDetail>(&mut generator),
        ),
        (
            "StatusOutput",
            "`status --json`.",
            reference::<Status>(&mut generator),
        ),
        (
            "StatsOutput",
            "`stats --json`.",
            reference::<Stats>(&mut generator),
        ),
        (
            "HistoryOutput",
            "`history --json`: newest first.",
            json!({"type": "array", "items": reference::<HistoryEntry>(&mut generator)}),
        ),
        (
            "ThemesOutput",
            "`themes --json` and `suggest --json`.",
            json!({"type": "array", "items": reference::<ThemeCount>(&mut generator)}),
        ),
        (
            "ConfigOutput",
            "`config get/set/unset --json`: one setting for one key, an array for all.",
            {
                let setting = reference::<Setting>(&mut generator);
                json!({"oneOf": [setting.clone(), {"type": "array", "items": setting}]})
            },
        ),
        (
            "CleanupOutput",
            "`cleanup --json`.",
            reference::<CleanupReport>(&mut generator),
        ),
        (
            "LibraryOutput",
            "`library --json` and `GET /api/library`: a page of finished videos, newest first.",
            reference::<LibraryPage>(&mut generator),
        ),
        (
            "ThumbnailsOutput",
            "`thumbnails --missing --json`.",
            reference::<ThumbnailReport>(&mut generator),
        ),
        (
            "MessageOutput",
            "`shutdown --json` and other confirmations.",
            reference::<Message>(&mut generator),
        ),
        (
            "WatchLine",
            "One line of `watch --json`; the first is always `hello`.",
            reference::<Event>(&mut generator),
        ),
    ];
    let mut defs: Map<String, Value> = generator.take_definitions(true);
    let mut any_output = Vec::new();
    for (name, description, schema) in outputs {
        let mut schema = schema;
        if let Value::Object(map) = &mut schema {
            map.insert("description".into(), description.into());
        }
        defs.insert(name.to_string(), schema);
        any_output.push(json!({"$ref": format!("#/$defs/{name}")}));
    }
    // Sorted keys: the file changes only when a type does, never by generation order.
    let defs: Map<String, Value> = defs
        .into_iter()
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "vfetch JSON output, schema version 1",
        "description": "Every `vfetchctl --json` output and `watch --json` line. Additive changes (new fields, new event types) keep version 1: consumers must ignore unknown fields and event types. Renames, removals and new values of an enum bump the version and the file name.",
        "anyOf": any_output,
        "$defs": defs,
    })
}

/// [`document`] as the text of schema/vfetch.schema.json (pretty, with a final newline).
pub fn document_text() -> String {
    let text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    format!("{text}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_schema_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/vfetch.schema.json");
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == document_text(),
            "schema/vfetch.schema.json differs from the types in src/schema/. If the change is \
             on purpose (see the versioning rule in README.md), regenerate it with\n    \
             cargo run -q --bin vfetchctl -- schema > schema/vfetch.schema.json"
        );
    }

    #[test]
    fn events_are_tagged_by_type_in_snake_case() {
        let line = serde_json::to_value(Event::Lagged(Lagged { dropped: 3 })).unwrap();
        assert_eq!(line, json!({"type": "lagged", "dropped": 3}));
        let hello = serde_json::to_value(Event::Hello(Hello::new("9.9.9"))).unwrap();
        assert_eq!(
            hello,
            json!({"type": "hello", "schema_version": 1, "daemon_version": "9.9.9"})
        );
    }
}
