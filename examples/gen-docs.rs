//! Generates the man pages and shell completions of `vfetchd` and `vfetchctl` for the Debian
//! package (see `packaging/build-deb.sh`), with the generator `vfetchctl completions` and
//! `vfetchctl manpages` use (`vfetch::cli::docs`).
//!
//! Usage: `cargo run --example gen-docs -- OUT_DIR` writes
//!
//! - `OUT_DIR/man/vfetchd.8` (a daemon: section 8), `OUT_DIR/man/vfetchctl.1` and one page per
//!   subcommand (`vfetchctl-add.1`, `vfetchctl-pause.1`, ...), `OUT_DIR/man/vfetchd.toml.5`;
//! - `OUT_DIR/completions/{NAME.bash,_NAME,NAME.fish}` for both programs.
//!
//! The output depends only on the sources (and `SOURCE_DATE_EPOCH`, for the pages' date), so
//! rebuilding the package gives the same files.

use std::path::Path;
use std::process::ExitCode;

use vfetch::cli::docs;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: gen-docs OUT_DIR");
        return ExitCode::from(2);
    };
    match docs::write_package_docs(Path::new(&out), &docs::page_date()) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-docs: {e}");
            ExitCode::FAILURE
        }
    }
}
