//! One file per `vfetchctl` subcommand, each: build the request, call the daemon, render the
//! answer. This file only dispatches and finds the daemon.

mod add;
mod cancel;
mod cleanup;
mod config;
mod docs;
mod export;
mod history;
mod library;
mod list;
mod metrics;
mod pause;
mod priority;
mod resume;
mod show;
mod shutdown;
mod stats;
mod status;
mod suggest;
mod themes;
mod thumbnails;
mod watch;
mod web;

use std::path::PathBuf;

use super::args::{Cli, Command, TargetArgs};
use super::{autostart, Exit, Failure};
use crate::config::{user_socket, Config, Mode, Overrides};
use crate::ipc::client::{answers, Client, ClientError};
use crate::protocol::{Answer, Request, Target};

/// Runs the parsed command line.
pub async fn execute(cli: Cli) -> Result<Exit, Failure> {
    let ctx = Context {
        cli: &cli,
        json: cli.json,
    };
    match &cli.command {
        Command::Add(args) => add::run(&ctx, args).await,
        Command::List(args) => list::run(&ctx, args).await,
        Command::Show { id } => show::run(&ctx, *id).await,
        Command::Pause(target) => pause::run(&ctx, target).await,
        Command::Resume(target) => resume::run(&ctx, target).await,
        Command::Cancel { id } => cancel::run(&ctx, *id).await,
        Command::Priority { id, priority } => priority::run(&ctx, *id, *priority).await,
        Command::Status => status::run(&ctx).await,
        Command::Stats { days, by } => stats::run(&ctx, *days, *by).await,
        Command::History {
            limit,
            theme,
            state,
        } => history::run(&ctx, *limit, theme.as_deref(), *state).await,
        Command::Suggest { prefix, limit } => suggest::run(&ctx, prefix, *limit).await,
        Command::Themes { limit } => themes::run(&ctx, *limit).await,
        Command::Export {
            job,
            format,
            output,
        } => export::run(&ctx, *job, *format, output.as_deref()).await,
        Command::Cleanup {
            older_than,
            failed_only,
            dry_run,
            delete_files,
        } => cleanup::run(&ctx, *older_than, *failed_only, *dry_run, *delete_files).await,
        Command::Library {
            theme,
            source,
            limit,
            cursor,
        } => library::run(&ctx, theme.clone(), *source, *limit, *cursor).await,
        Command::Thumbnails { missing: _ } => thumbnails::run(&ctx).await,
        Command::Watch { job } => watch::run(&ctx, *job).await,
        Command::Metrics => metrics::run(&ctx).await,
        Command::Config(sub) => config::run(&ctx, sub).await,
        Command::Shutdown => shutdown::run(&ctx).await,
        Command::Web { open } => web::run(&ctx, *open).await,
        Command::Completions { shell } => docs::completions(*shell),
        Command::Manpages { dir } => docs::manpages(dir),
        Command::Schema => docs::schema(),
    }
}

/// What every command gets besides its own arguments: the global options, and the way to the
/// daemon. A command connects only once its request is built, so bad input never starts one.
pub struct Context<'a> {
    cli: &'a Cli,
    /// `--json`: print JSON for scripts instead of text for people.
    pub json: bool,
}

impl Context<'_> {
    /// Finds the daemon: an explicit socket, else the user daemon, else a running system daemon;
    /// starts a user daemon when none answers on the user-mode default socket.
    pub async fn connect(&self) -> Result<Session, Failure> {
        let cli = self.cli;
        let env = |name: &str| std::env::var(name).ok();
        let mode = if cli.system { Mode::System } else { Mode::User };
        let overrides = Overrides {
            config_file: cli.config.clone(),
            socket: cli.socket.clone(),
            ..Default::default()
        };
        let config = match Config::load(mode, &overrides, &env) {
            Ok(config) => config,
            Err(e) => {
                // The daemon may be running on an older, good config: still reach it.
                eprintln!("vfetchctl: warning: {e}");
                Config::load_locations(mode, &overrides, &env)
            }
        };
        let user_default = mode == Mode::User && config.socket == user_socket(&env);

        if user_default && !answers(&config.socket).await {
            let system = Config::defaults(Mode::System, &env).socket;
            if answers(&system).await {
                return Session::open(system).await;
            }
            if !cli.no_autostart {
                autostart::start_daemon(&config, cli.config.as_deref()).await?;
            }
        }
        match Session::open(config.socket).await {
            Err(Failure::Client(e @ ClientError::Unreachable { .. }))
                if user_default && cli.no_autostart =>
            {
                Err(Failure::Autostart(format!(
                    "{e} (not starting one: --no-autostart)"
                )))
            }
            other => other,
        }
    }
}

/// A connection to the daemon, and the socket it was found on (followers open a second one).
pub struct Session {
    pub client: Client,
    pub socket: PathBuf,
}

impl Session {
    async fn open(socket: PathBuf) -> Result<Session, Failure> {
        let client = Client::connect(&socket).await?;
        Ok(Session { client, socket })
    }

    /// Sends one request and returns its answer as the `T` the command expects.
    pub async fn call<T: Answer>(&mut self, request: impl Into<Request>) -> Result<T, Failure> {
        Ok(self.client.call(&request.into()).await?)
    }
}

/// `pause`/`resume`'s target: one job, or all with `--all`.
fn target_of(args: &TargetArgs) -> Target {
    match args.id {
        Some(id) if !args.all => Target::Job(id),
        _ => Target::All,
    }
}
