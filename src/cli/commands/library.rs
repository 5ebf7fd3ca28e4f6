//! `library`: a page of the library's finished videos, newest first (the gallery's data).

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::gallery::{LibraryPage, LibraryQuery};
use crate::source_kind::SourceKind;

/// Asks for one page of the library (of one theme or source) and prints it.
pub async fn run(
    ctx: &Context<'_>,
    theme: Option<String>,
    source: Option<SourceKind>,
    limit: u32,
    cursor: Option<i64>,
) -> Result<Exit, Failure> {
    let query = LibraryQuery {
        theme,
        source,
        cursor,
        limit,
        ..LibraryQuery::default()
    };
    let page: LibraryPage = ctx.connect().await?.call(query).await?;
    render::library(&page, ctx.json);
    Ok(Exit::Ok)
}
