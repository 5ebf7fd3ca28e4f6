//! nginx: the static file server the bulk scenario downloads from (the peers directly, vfetch
//! through the catalogue's URLs).

use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::procs::Proc;
use crate::util::{free_port, wait_for};

pub(crate) struct Nginx {
    proc: Proc,
    port: u16,
}

impl Nginx {
    pub(crate) fn start(bin: &Path, dir: &Path, root: &Path) -> Result<Nginx> {
        fs::create_dir_all(dir)?;
        let port = free_port()?;
        let compiled = Command::new(bin)
            .arg("-V")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        let mut temp_paths = String::new();
        for (module, directive) in [
            ("client-body", "client_body_temp_path"),
            ("proxy", "proxy_temp_path"),
            ("fastcgi", "fastcgi_temp_path"),
            ("uwsgi", "uwsgi_temp_path"),
            ("scgi", "scgi_temp_path"),
        ] {
            if compiled.contains(&format!("--http-{module}-temp-path")) {
                let _ = writeln!(
                    temp_paths,
                    "    {directive} {};",
                    dir.join(format!("tmp-{module}")).display()
                );
            }
        }
        // SAFETY: geteuid has no preconditions.
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root;\n"
        } else {
            ""
        };
        let conf = format!(
            "worker_processes 2;\n{user}pid {pid};\nerror_log {err} warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n    access_log off;\n    sendfile on;\n    tcp_nopush on;\n    \
             keepalive_requests 10000;\n    types {{ video/mp4 mp4; }}\n    default_type video/mp4;\n\
             {temp_paths}    server {{\n        listen 127.0.0.1:{port};\n        root {root};\n        \
             location / {{ }}\n    }}\n}}\n",
            pid = dir.join("nginx.pid").display(),
            err = dir.join("error.log").display(),
            root = root.display(),
        );
        let conf_path = dir.join("nginx.conf");
        fs::write(&conf_path, conf)?;
        let mut cmd = Command::new(bin);
        cmd.arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-g")
            .arg("daemon off;")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut proc = Proc::spawn(&mut cmd, "nginx")?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let up = wait_for(Duration::from_secs(10), "nginx to listen", || {
            TcpStream::connect(addr).is_ok()
        });
        if up.is_err() || proc.try_wait().is_some() {
            let log = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            bail!("nginx did not start:\n{log}");
        }
        Ok(Nginx { proc, port })
    }

    pub(crate) fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: graceful stop of master and workers; the group kill mops up after.
        self.proc.stop(libc::SIGQUIT, Duration::from_secs(5));
    }
}
