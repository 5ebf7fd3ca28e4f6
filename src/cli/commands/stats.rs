//! `stats`: totals, success rate, bytes and speed, per source and per period.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::insight::{Period, Stats};
use crate::protocol::StatsQuery;

/// Asks for the statistics of the last `days` and prints them.
pub async fn run(ctx: &Context<'_>, days: u32, by: Period) -> Result<Exit, Failure> {
    let stats: Stats = ctx.connect().await?.call(StatsQuery { days, by }).await?;
    render::stats(&stats, ctx.json);
    Ok(Exit::Ok)
}
