//! `suggest`: searched themes that start with a prefix, most used first.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::insight::ThemeCount;
use crate::protocol::ThemesQuery;

/// Asks for themes starting with `prefix` and prints them.
pub async fn run(ctx: &Context<'_>, prefix: &str, limit: u32) -> Result<Exit, Failure> {
    let query = ThemesQuery {
        prefix: prefix.to_string(),
        limit,
    };
    let rows: Vec<ThemeCount> = ctx.connect().await?.call(query).await?;
    render::themes(&rows, ctx.json);
    Ok(Exit::Ok)
}
