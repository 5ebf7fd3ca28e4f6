//! `web`: the HTTP dashboard's address and a one-time login link, optionally opened.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::protocol::{Request, WebLogin};

/// Asks the daemon for a login link, prints it, and with `open` hands it to `xdg-open`.
pub async fn run(ctx: &Context<'_>, open: bool) -> Result<Exit, Failure> {
    let link: WebLogin = ctx.connect().await?.call(Request::WebLogin).await?;
    render::web_login(&link, ctx.json);
    if open {
        // The link is passed as one argument, never through a shell.
        let opened = std::process::Command::new("xdg-open")
            .arg(&link.login_url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        match opened {
            Ok(status) if status.success() => {}
            Ok(status) => {
                return Err(Failure::Other(format!(
                    "xdg-open failed ({status}); open the link above by hand"
                )))
            }
            Err(e) => {
                return Err(Failure::Other(format!(
                    "cannot run xdg-open ({e}); open the link above by hand"
                )))
            }
        }
    }
    Ok(Exit::Ok)
}
