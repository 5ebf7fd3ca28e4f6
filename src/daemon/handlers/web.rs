//! web: a one-time login link for the HTTP API, minted for `vfetchctl web`.

use std::sync::Arc;

use crate::daemon::http::access::LOGIN_CODE_LIFETIME;
use crate::daemon::Shared;
use crate::protocol::{ErrorKind, Response, RpcError, WebLogin};

/// A fresh single-use login link, or a refusal naming the setting while HTTP is off.
pub fn login(shared: &Arc<Shared>) -> Result<Response, RpcError> {
    let link = shared.web.mint_login().ok_or_else(|| {
        RpcError::new(
            ErrorKind::Conflict,
            "the HTTP API is off: set web_listen (e.g. \"127.0.0.1:5001\") in the config file and restart vfetchd",
        )
    })?;
    Ok(Response::WebLogin(WebLogin {
        url: link.url,
        login_url: link.login_url,
        valid_secs: LOGIN_CODE_LIFETIME.as_secs(),
    }))
}
