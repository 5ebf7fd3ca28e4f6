//! `themes`: the most searched themes, with their counts and last use.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::insight::ThemeCount;
use crate::protocol::ThemesQuery;

/// Asks for every theme (no prefix) and prints the most used.
pub async fn run(ctx: &Context<'_>, limit: u32) -> Result<Exit, Failure> {
    let query = ThemesQuery {
        prefix: String::new(),
        limit,
    };
    let rows: Vec<ThemeCount> = ctx.connect().await?.call(query).await?;
    render::themes(&rows, ctx.json);
    Ok(Exit::Ok)
}
