//! `config get / set / unset`: read or change settings of the running daemon.
//!
//! The human form is a TOML file: `vfetchctl config get > config.toml` gives a config the daemon
//! reads back to the same values. Unset keys and API keys are comments, so saving the output
//! never sets a key to "empty" or to the mask `***`.

use std::fmt::Write;

use super::Context;
use crate::cli::args::ConfigCommand;
use crate::cli::{render, Exit, Failure};
use crate::config::{Config, ValueKind};
use crate::protocol::{ConfigSet, Request, Setting};
use crate::text;

/// Sends the get, set or unset and prints the settings it answers with.
pub async fn run(ctx: &Context<'_>, sub: &ConfigCommand) -> Result<Exit, Failure> {
    let request = match sub {
        ConfigCommand::Get { key } => Request::ConfigGet { key: key.clone() },
        ConfigCommand::Set { key, value } => Request::from(ConfigSet {
            key: key.clone(),
            value: value.clone(),
        }),
        ConfigCommand::Unset { key } => Request::ConfigUnset { key: key.clone() },
    };
    let settings: Vec<Setting> = ctx.connect().await?.call(request).await?;
    if ctx.json {
        // `config get` without a key lists everything, even in JSON; otherwise one object.
        let all = matches!(sub, ConfigCommand::Get { key: None });
        render::settings_json(&settings, all);
    } else {
        for setting in &settings {
            println!("{}", toml_line(setting));
        }
    }
    Ok(Exit::Ok)
}

/// One setting as a line of TOML: `key = value`, or a comment when it has no value to write.
fn toml_line(setting: &Setting) -> String {
    let key = toml_key(&setting.key);
    let value = setting.value.trim();
    let mut line = match Config::value_kind(&setting.key) {
        _ if value.is_empty() => format!("# {key} = (unset)"),
        // The daemon sends only a mask; writing it out would set the key to `***`.
        ValueKind::Secret => format!("# {key} = \"***\" (set; the key itself is never shown)"),
        ValueKind::Integer if value.parse::<i64>().is_ok() => format!("{key} = {value}"),
        ValueKind::Bool if value.parse::<bool>().is_ok() => format!("{key} = {value}"),
        ValueKind::List => match serde_json::from_str::<Vec<String>>(value) {
            Ok(items) => {
                let items: Vec<String> = items.iter().map(|i| toml_string(i)).collect();
                format!("{key} = [{}]", items.join(", "))
            }
            Err(_) => format!("{key} = {}", toml_string(value)),
        },
        _ => format!("{key} = {}", toml_string(value)),
    };
    if setting.runtime {
        line.push_str("  # set with `vfetchctl config set`");
    }
    line
}

/// A key as TOML writes it: bare (dotted for sections) when it can be, else quoted.
fn toml_key(key: &str) -> String {
    let bare = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if key.split('.').all(bare) {
        key.to_string()
    } else {
        toml_string(key)
    }
}

/// A TOML basic string on one line. The `toml` crate's own printer may choose a literal or a
/// multi-line string and leaves bidi overrides raw; this goes to a terminal, so every character
/// that could act on it is a `\u` escape, which TOML reads back as the same character.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if text::is_dangerous(c) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, value: &str, runtime: bool) -> String {
        toml_line(&Setting {
            key: key.to_string(),
            value: value.to_string(),
            runtime,
        })
    }

    #[test]
    fn lines_are_toml_that_reads_back() {
        let hostile = "/srv/a \"b\" \\c\x1b[2J\u{202e}\nd";
        let text = [
            line("parallel_downloads", "7", true),
            line("allow_private_addresses", "false", false),
            line("log_file", hostile, false),
            line("on_complete", r#"["/bin/echo","x \"y\""]"#, false),
            line("sources.pexels.rate_limit", "200/3600", false),
        ]
        .join("\n");
        for shown in text.lines() {
            assert!(!shown.chars().any(text::is_dangerous), "{shown}");
        }
        let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(table["parallel_downloads"].as_integer(), Some(7));
        assert_eq!(table["allow_private_addresses"].as_bool(), Some(false));
        assert_eq!(table["log_file"].as_str(), Some(hostile));
        let list: Vec<&str> = table["on_complete"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(toml::Value::as_str)
            .collect();
        assert_eq!(list, ["/bin/echo", "x \"y\""]);
        assert_eq!(
            table["sources"]["pexels"]["rate_limit"].as_str(),
            Some("200/3600")
        );
    }

    #[test]
    fn unset_values_and_api_keys_are_comments() {
        assert_eq!(line("webhook_url", "", false), "# webhook_url = (unset)");
        let key = line("sources.pexels.api_key", "***", false);
        assert!(key.starts_with("# sources.pexels.api_key = "), "{key}");
        assert!(line("sources.pexels.api_key", "", false).contains("(unset)"));
    }
}
