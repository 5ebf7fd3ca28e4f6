//! The HTTP API, through the real daemon and a real HTTP client: the same answers as the CLI on
//! the same daemon, and clear problem documents for every refusal.

use serde_json::Value;

use crate::support::web::WEB_ON;
use crate::support::Daemon;

#[test]
fn status_over_http_is_the_status_the_cli_sees() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    assert!(web.url.starts_with("http://127.0.0.1:"), "{}", web.url);
    let reply = web.get("/api/status");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let http = reply.json();
    let cli = daemon.ctl_json(&["status"]);
    for key in [
        "daemon_version",
        "pid",
        "socket",
        "database",
        "library_dir",
        "jobs",
    ] {
        assert_eq!(http[key], cli[key], "{key}");
    }
    assert_eq!(cli["web_url"], Value::String(web.url.clone()));
    let human = String::from_utf8_lossy(&daemon.ctl(&["status"]).stdout).to_string();
    assert!(
        human.contains(&format!("       web  {}\n", web.url)),
        "{human}"
    );
}
