//! `cleanup`: remove old records, their partial files, and library files only when asked.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::insight::{CleanupQuery, CleanupReport};

/// Asks for the cleanup (or its dry run) and prints what went.
pub async fn run(
    ctx: &Context<'_>,
    older_than_days: u32,
    failed_only: bool,
    dry_run: bool,
    delete_files: bool,
) -> Result<Exit, Failure> {
    let query = CleanupQuery {
        older_than_days,
        failed_only,
        dry_run,
        delete_files,
    };
    let report: CleanupReport = ctx.connect().await?.call(query).await?;
    render::cleanup(&report, ctx.json);
    Ok(Exit::Ok)
}
