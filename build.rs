//! Rebuilds the crate when anything under `web/` changes, added files included: the dashboard's
//! embedded files (rust-embed) are otherwise only tracked as they were at the last build.

fn main() {
    println!("cargo:rerun-if-changed=web");
}
