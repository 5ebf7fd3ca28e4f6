//! `config get / set / unset`: read or change settings of the running daemon.

use super::Context;
use crate::cli::args::ConfigCommand;
use crate::cli::{render, Exit, Failure};
use crate::protocol::{ConfigSet, Request, Setting};

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
    // `config get` without a key lists everything, even in JSON; otherwise one object.
    let all = matches!(sub, ConfigCommand::Get { key: None });
    render::settings(&settings, all, ctx.json);
    Ok(Exit::Ok)
}
