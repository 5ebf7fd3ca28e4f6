//! Who may use the HTTP API: the token kept in `<state_dir>/web.token`, the one-time login codes
//! `vfetchctl web` hands out, and the browser sessions a login starts.
//!
//! Apart from the middleware (`auth.rs`) so that [`Shared`](crate::daemon::Shared) can hold it and
//! the socket's `web` request can mint a login code, without either depending on the transport.
//! Codes and sessions are kept only as SHA-256 digests: a lookup by digest tells a timing observer
//! nothing about the secret, and a memory dump holds no usable cookie.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::permissions;

/// The token file's name in the state directory.
pub const TOKEN_FILE: &str = "web.token";
/// How long a login code from `vfetchctl web` may wait to be used.
pub const LOGIN_CODE_LIFETIME: Duration = Duration::from_secs(120);
/// How long a browser session lasts after its login.
const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// Unused login codes kept at once; the oldest goes first.
const MAX_CODES: usize = 32;
/// Browser sessions kept at once; the oldest goes first.
const MAX_SESSIONS: usize = 256;
/// Random bytes in a token, a session id and a login code (256 bits).
const SECRET_BYTES: usize = 32;

/// The HTTP API's secrets, empty until the listener starts.
#[derive(Default)]
pub struct WebAccess {
    /// Set once, when the listener is bound.
    enabled: OnceLock<Enabled>,
    /// Digest of each unused login code → when it stops being valid.
    codes: Mutex<HashMap<[u8; 32], Instant>>,
    /// Digest of each session id → when it ends.
    sessions: Mutex<HashMap<[u8; 32], Instant>>,
}

struct Enabled {
    token: String,
    url: String,
}

/// A login code and where to use it, for `vfetchctl web`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLink {
    /// The dashboard's address.
    pub url: String,
    /// `<url>/login?code=…`, valid once and for [`LOGIN_CODE_LIFETIME`].
    pub login_url: String,
}

impl WebAccess {
    /// Turns the API on with `token`, served at `url` (e.g. `http://127.0.0.1:5001`).
    pub fn enable(&self, token: String, url: String) {
        let _ = self.enabled.set(Enabled { token, url });
    }

    /// The listener's URL, while it runs.
    pub fn url(&self) -> Option<&str> {
        self.enabled.get().map(|e| e.url.as_str())
    }

    /// Whether `presented` is the token, compared in constant time.
    pub fn token_matches(&self, presented: &str) -> bool {
        self.enabled
            .get()
            .is_some_and(|e| bool::from(e.token.as_bytes().ct_eq(presented.as_bytes())))
    }

    /// A new single-use login code, or `None` while the API is off.
    pub fn mint_login(&self) -> Option<LoginLink> {
        let enabled = self.enabled.get()?;
        let code = random_hex().ok()?;
        let mut codes = lock(&self.codes);
        let now = Instant::now();
        codes.retain(|_, until| *until > now);
        evict_oldest(&mut codes, MAX_CODES);
        codes.insert(digest(&code), now + LOGIN_CODE_LIFETIME);
        Some(LoginLink {
            url: enabled.url.clone(),
            login_url: format!("{}/login?code={code}", enabled.url),
        })
    }

    /// Uses up `code`; a new session id when it was valid.
    pub fn redeem(&self, code: &str) -> Option<String> {
        let until = lock(&self.codes).remove(&digest(code))?;
        if until <= Instant::now() {
            return None;
        }
        let session = random_hex().ok()?;
        let mut sessions = lock(&self.sessions);
        let now = Instant::now();
        sessions.retain(|_, until| *until > now);
        evict_oldest(&mut sessions, MAX_SESSIONS);
        sessions.insert(digest(&session), now + SESSION_LIFETIME);
        Some(session)
    }

    /// Ends `session` (logout); unknown ones are ignored.
    pub fn end_session(&self, session: &str) {
        lock(&self.sessions).remove(&digest(session));
    }

    /// Whether `session` (a cookie's value) is a live session.
    pub fn session_valid(&self, session: &str) -> bool {
        lock(&self.sessions)
            .get(&digest(session))
            .is_some_and(|until| *until > Instant::now())
    }
}

/// The token in `<state_dir>/web.token`, created (mode 0600) with 256 random bits on first use.
pub fn load_or_create_token(state_dir: &Path) -> io::Result<String> {
    let path = state_dir.join(TOKEN_FILE);
    match std::fs::File::open(&path) {
        Ok(mut file) => {
            permissions::tighten(&path, 0o600)?;
            let mut text = String::new();
            Read::by_ref(&mut file)
                .take(SECRET_BYTES as u64 * 4)
                .read_to_string(&mut text)?;
            let token = text.trim();
            if token.len() == SECRET_BYTES * 2 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(token.to_string());
            }
            // A damaged or hand-edited file: replace it rather than accept a weak token.
            std::fs::remove_file(&path)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = random_hex()?;
    let mut file = permissions::create_new_file(&path, 0o600)?;
    file.write_all(format!("{token}\n").as_bytes())?;
    file.sync_all()?;
    Ok(token)
}

/// 256 random bits as 64 hex digits.
fn random_hex() -> io::Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(hex::encode(bytes))
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Drops the entries that end first until fewer than `max` are left.
fn evict_oldest(map: &mut HashMap<[u8; 32], Instant>, max: usize) {
    while map.len() >= max {
        let Some(first) = map.iter().min_by_key(|(_, until)| **until).map(|(k, _)| *k) else {
            return;
        };
        map.remove(&first);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Held only for a map operation: a poisoned map is still a consistent map.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_token_is_created_private_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let token = load_or_create_token(dir.path()).unwrap();
        assert_eq!(token.len(), 64);
        let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create_token(dir.path()).unwrap(), token);
        std::fs::write(dir.path().join(TOKEN_FILE), "short\n").unwrap();
        let replaced = load_or_create_token(dir.path()).unwrap();
        assert_ne!(replaced, "short");
        assert_eq!(replaced.len(), 64);
    }

    #[test]
    fn a_login_code_works_once_and_starts_a_session() {
        let access = WebAccess::default();
        assert!(access.mint_login().is_none(), "off until enabled");
        access.enable("t".repeat(64), "http://127.0.0.1:9".into());
        let link = access.mint_login().unwrap();
        let code = link.login_url.split("code=").nth(1).unwrap();
        assert!(link.login_url.starts_with("http://127.0.0.1:9/login?code="));
        let session = access.redeem(code).unwrap();
        assert!(access.session_valid(&session));
        assert!(access.redeem(code).is_none(), "single use");
        assert!(!access.session_valid(code));
        access.end_session(&session);
        assert!(!access.session_valid(&session), "logged out");
        assert!(access.token_matches(&"t".repeat(64)));
        assert!(!access.token_matches(&"t".repeat(63)));
    }

    #[test]
    fn codes_and_sessions_are_bounded() {
        let access = WebAccess::default();
        access.enable("t".repeat(64), "http://x".into());
        for _ in 0..MAX_CODES * 3 {
            access.mint_login().unwrap();
        }
        assert!(lock(&access.codes).len() <= MAX_CODES);
    }
}
